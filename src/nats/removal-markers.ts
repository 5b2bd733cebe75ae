/**
 * The delete markers a module's removal leaves in the modules bucket, removed once they have done their work.
 *
 * A stop writes a delete marker on the module's key: every node's watch of the bucket sees it and stops its
 * process, and a creation of the id takes the key over. Left there, the markers of every id ever used would stay
 * for good: the bucket's stream would grow with each module created and stopped, and a listing of a session's
 * modules, which reads each of its keys, would slow down with each id the session ever used (3,000 stopped modules
 * made a listing take some 170 ms, measured). So each marker is removed `keepMs` after it was written (or after a
 * read found it), when every node that was connected has long seen it: one that was cut off checks each of its
 * processes against the bucket when it is back, and one whose watch skipped messages does the same (see
 * `ModuleSpecs.watch`).
 *
 * Removed message by message (see `removeMessagesUpTo`: not a stream purge by subject), only the key's messages up
 * to the marker, so a module created again meanwhile keeps its spec; on a replicated stream only once older than
 * its duplicate window. A marker whose removal fails (JetStream unavailable) is tried again later, a few times;
 * one this node never got to (it stopped first) is removed when a read of the key next finds it.
 * @module
 */
import type { JetStreamManager } from 'nats';
import { CLOCK_SKEW_MS, removeMessagesUpTo } from './bucket-stream.js';
import { kvStream, kvSubject } from './kv-bucket.js';

/**
 * How long a marker stays on a stream of one replica. Longer than a live watch takes to deliver it, so that the
 * watches of connected nodes see it rather than notice a gap and check every process they run.
 */
export const MARKER_KEEP_MS = 10_000;

/** Markers waiting at most, beyond which new ones are left to a later read of their key. */
const MAX_WAITING = 100_000;

/** Attempts at removing one marker before it is left to a later read of its key. */
const MAX_ATTEMPTS = 5;

/** What {@link RemovalMarkers} works on. */
export interface RemovalMarkersDeps {
  readonly manager: () => Promise<JetStreamManager>;
  readonly bucket: string;
  /** The stream's duplicate window in ms when it has more than one replica; `undefined` for one replica. */
  readonly replicatedWindowMs: number | undefined;
  /** How long a marker stays at least. @default {@link MARKER_KEEP_MS} */
  readonly keepMs?: number;
  /** Told of the first failure of a series (the next success ends it). */
  readonly report: (error: unknown) => void;
}

interface Waiting {
  readonly revision: number;
  readonly dueAt: number;
  readonly attempts: number;
}

/** The markers this node saw written or read, each removed once due. */
export class RemovalMarkers {
  readonly #deps: RemovalMarkersDeps;
  readonly #keepMs: number;
  /** By key, in the order they fall due (each is due `keepMs` after it was noted). */
  readonly #waiting = new Map<string, Waiting>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #failing = false;
  #closed = false;

  constructor(deps: RemovalMarkersDeps) {
    this.#deps = deps;
    // On a replicated stream a message goes only once older than the duplicate window (see removeMessagesUpTo).
    this.#keepMs = Math.max(
      deps.keepMs ?? MARKER_KEEP_MS,
      deps.replicatedWindowMs === undefined ? 0 : deps.replicatedWindowMs + CLOCK_SKEW_MS,
    );
  }

  /** Notes the marker at `revision` of `key`, to be removed once due; a marker noted already keeps its turn. */
  note(key: string, revision: number): void {
    if (this.#closed || this.#waiting.get(key)?.revision === revision || this.#waiting.size >= MAX_WAITING) return;
    // Re-inserted at the end: a later marker of the key is due later.
    this.#waiting.delete(key);
    this.#waiting.set(key, { revision, dueAt: Date.now() + this.#keepMs, attempts: 0 });
    this.#schedule();
  }

  /** Stops removing: the markers still waiting stay in the bucket (a later read of their keys notes them again). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#waiting.clear();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#running || this.#closed) return;
    const next = this.#waiting.values().next();
    if (next.done) return;
    this.#timer = setTimeout(() => void this.#removeDue(), Math.max(0, next.value.dueAt - Date.now()));
    // Markers left when the process ends are removed by a later read; they must not keep it alive.
    this.#timer.unref();
  }

  async #removeDue(): Promise<void> {
    this.#timer = undefined;
    this.#running = true;
    try {
      for (const [key, marker] of this.#waiting) {
        if (this.#closed || marker.dueAt > Date.now()) break;
        this.#waiting.delete(key);
        await this.#remove(key, marker);
      }
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  async #remove(key: string, marker: Waiting): Promise<void> {
    const { bucket, replicatedWindowMs } = this.#deps;
    try {
      const manager = await this.#deps.manager();
      const writtenBy = replicatedWindowMs === undefined ? undefined : Date.now() - this.#keepMs;
      // Up to the marker only: a creation of the id since has a later revision, and keeps it.
      const { kept } = await removeMessagesUpTo(
        manager,
        kvStream(bucket),
        kvSubject(bucket, key),
        marker.revision,
        writtenBy,
      );
      this.#failing = false;
      // Stamped later by the stream than this node's clock says (a marker a read found, written moments ago).
      if (kept > 0) this.#again(key, marker);
    } catch (error) {
      if (this.#closed) return;
      if (!this.#failing) this.#deps.report(error);
      this.#failing = true;
      this.#again(key, marker);
    }
  }

  #again(key: string, marker: Waiting): void {
    if (marker.attempts + 1 >= MAX_ATTEMPTS || this.#waiting.has(key)) return;
    this.#waiting.set(key, {
      revision: marker.revision,
      dueAt: Date.now() + this.#keepMs,
      attempts: marker.attempts + 1,
    });
  }
}
