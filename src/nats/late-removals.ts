/**
 * Messages of a KV key that have done their work, removed from the bucket's stream some time later.
 *
 * Two kinds: the delete marker a module's stop leaves in the modules bucket, and a deleted variable's writes before
 * its own delete marker. Left there, both would stay for good: the modules bucket would grow with each module
 * created and stopped, and a listing of a session's modules, which reads each of its keys, would slow down with each
 * id the session ever used (3,000 stopped modules made a listing take some 170 ms, measured); a session that deletes
 * variables would keep up to 64 writes of each until it ends, though nothing reads them (~90 MB per 1,000 deleted
 * variables of 1 KB values, measured). Not at once: a node whose watch is behind, or cut off for a moment, reads them
 * still, as every other write: its watchers hear each accepted write, and its processes of a stopped module stop.
 * One that comes back later than that checks each of its module processes against the bucket (see
 * `ModuleSpecs.watch`), and its watchers hear of a deleted variable's last writes no more than of writes past a key's
 * kept history.
 *
 * Removed message by message (see `removeMessagesUpTo`: not a stream purge by subject, nor a rollup, which on
 * nats-server 2.9.10 moves every watch behind past messages it never sent), only the key's messages up to the
 * revision given, so what was written under the key since stays; on a replicated stream only once older than its
 * duplicate window. A removal that fails (JetStream unavailable) is tried again later, a few times; one this node
 * never got to (it stopped first) is left, or, for a module's marker, done when a read of the key next finds it.
 * @module
 */
import type { JetStreamManager } from 'nats';
import { CLOCK_SKEW_MS, removeMessagesUpTo } from './bucket-stream.js';
import { kvStream, kvSubject } from './kv-bucket.js';
import { RemovalsBacklogError } from '../errors.js';

/**
 * How long messages stay on a stream of one replica once done with: longer than a live watch takes to deliver them,
 * or a node takes to reconnect after a blip, so that the watches of connected nodes read them as any other.
 */
export const REMOVAL_DELAY_MS = 10_000;

/** Removals waiting at most, beyond which new ones are left undone (and reported, once). */
export const MAX_WAITING = 100_000;

/** Keys whose messages are removed at once: each removal is a few requests per message, one after another. */
const AT_ONCE = 8;

/** Attempts at one removal before it is left undone. */
const MAX_ATTEMPTS = 5;

/** What {@link LateRemovals} works on. */
export interface LateRemovalsDeps {
  readonly manager: () => Promise<JetStreamManager>;
  readonly bucket: string;
  /** The stream's duplicate window in ms when it has more than one replica; `undefined` for one replica. */
  readonly replicatedWindowMs: number | undefined;
  /** How long messages stay at least once done with. @default {@link REMOVAL_DELAY_MS} */
  readonly delayMs?: number;
  /**
   * Told of a removal given up on after its attempts failed (once, until a removal succeeds again), and of the first
   * removal left undone because too many wait (once, until fewer wait).
   */
  readonly report: (error: unknown) => void;
}

interface Waiting {
  /** The key's messages up to this revision go. */
  readonly upTo: number;
  /**
   * On the monotonic clock (`performance.now()`): on the system clock, a step back (NTP, a resumed VM) would hold
   * every removal back for as long as the step.
   */
  readonly dueAt: number;
  readonly attempts: number;
}

/** The removals this node asked for, each made once due. */
export class LateRemovals {
  readonly #deps: LateRemovalsDeps;
  readonly #delayMs: number;
  /** By key, in the order they fall due (each is due `delayMs` after it was asked for). */
  readonly #waiting = new Map<string, Waiting>();
  /** How far each removal under way goes, by key: one asked for meanwhile must go further to count. */
  readonly #underWay = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #failing = false;
  #overflowTold = false;
  #closed = false;

  constructor(deps: LateRemovalsDeps) {
    this.#deps = deps;
    // On a replicated stream a message goes only once older than the duplicate window (see removeMessagesUpTo).
    this.#delayMs = Math.max(
      deps.delayMs ?? REMOVAL_DELAY_MS,
      deps.replicatedWindowMs === undefined ? 0 : deps.replicatedWindowMs + CLOCK_SKEW_MS,
    );
  }

  /**
   * Removes the messages of `key` up to revision `upTo` once due. A removal asked for already keeps its turn, unless
   * this one goes further (it is due later then); one that goes less far adds nothing.
   */
  removeLater(key: string, upTo: number): void {
    if (this.#closed || upTo <= Math.max(this.#waiting.get(key)?.upTo ?? 0, this.#underWay.get(key) ?? 0)) return;
    if (this.#waiting.size >= MAX_WAITING && !this.#waiting.has(key)) return this.#overflow(key);
    this.#overflowTold = false;
    // Re-inserted at the end: it is due last.
    this.#waiting.delete(key);
    this.#waiting.set(key, { upTo, dueAt: performance.now() + this.#delayMs, attempts: 0 });
    this.#schedule();
  }

  /** Stops removing: what still waits stays in the bucket. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#waiting.clear();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#running || this.#closed) return;
    const next = this.#waiting.values().next();
    if (next.done) return;
    this.#timer = setTimeout(() => void this.#removeDue(), Math.max(0, next.value.dueAt - performance.now()));
    // Removals left when the process ends stay undone; they must not keep it alive.
    this.#timer.unref();
  }

  async #removeDue(): Promise<void> {
    this.#timer = undefined;
    this.#running = true;
    try {
      for (;;) {
        const due: [string, Waiting][] = [];
        for (const [key, removal] of this.#waiting) {
          if (this.#closed || removal.dueAt > performance.now() || due.length === AT_ONCE) break;
          due.push([key, removal]);
        }
        if (due.length === 0) break;
        for (const [key] of due) this.#waiting.delete(key);
        await Promise.all(due.map(([key, removal]) => this.#remove(key, removal)));
      }
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  async #remove(key: string, removal: Waiting): Promise<void> {
    this.#underWay.set(key, removal.upTo);
    try {
      await this.#removeNow(key, removal);
    } finally {
      this.#underWay.delete(key);
    }
  }

  async #removeNow(key: string, removal: Waiting): Promise<void> {
    const { bucket, replicatedWindowMs } = this.#deps;
    try {
      const manager = await this.#deps.manager();
      // The wall clock on purpose: it is compared with the times the stream stamped on its messages.
      const writtenBy = replicatedWindowMs === undefined ? undefined : Date.now() - this.#delayMs;
      // Up to `upTo` only: what was written under the key since has a later revision, and stays.
      const { kept } = await removeMessagesUpTo(
        manager,
        kvStream(bucket),
        kvSubject(bucket, key),
        removal.upTo,
        writtenBy,
      );
      this.#failing = false;
      // Stamped later by the stream than this node's clock says (a marker a read found, written moments ago, say).
      if (kept > 0 && !this.#closed) this.#again(key, removal);
    } catch (error) {
      if (this.#closed) return;
      // Tried again quietly (a server restarting answers oddly for a moment); reported when given up on, unless a
      // removal of the key asked for since goes as far and further.
      if (this.#again(key, removal) || this.#waiting.has(key) || this.#failing) return;
      this.#failing = true;
      this.#deps.report(error);
    }
  }

  #overflow(key: string): void {
    if (this.#overflowTold) return;
    this.#overflowTold = true;
    this.#deps.report(new RemovalsBacklogError(this.#deps.bucket, MAX_WAITING, key));
  }

  /** Asks for the removal again, later; `false` when it was tried often enough (or the key has a newer one). */
  #again(key: string, removal: Waiting): boolean {
    // A removal of the key asked for while this one was under way goes further (see `removeLater`).
    if (removal.attempts + 1 >= MAX_ATTEMPTS || this.#waiting.has(key)) return false;
    this.#waiting.set(key, {
      upTo: removal.upTo,
      dueAt: performance.now() + this.#delayMs,
      attempts: removal.attempts + 1,
    });
    return true;
  }
}
