/**
 * Filling a gap in what a bucket watch's consumer sent (see kv-watch.ts): the messages of its keys that the stream
 * still holds between the last entry the consumer sent and the one it sends now are messages the server moved it
 * past. They are read one by one and handed over ahead of it, as the consumer would have; the consumer itself goes on
 * from where it is. A wider gap gets a new consumer instead: a few reads cost the server less than a consumer, many
 * reads more.
 * @module
 */
import type { KvEntry } from 'nats';
import { closedConnection } from './kv-watch-consumer.js';
import { backgroundPause } from './retry-unavailable.js';

/** Most messages a gap is filled with by reads; a gap holding more gets a new consumer. */
export const GAP_READ_MAX = 32;

/** The stream's first message of the watch's keys after `after`; `undefined` when it holds none. */
export type NextStoredEntry = (after: number) => Promise<KvEntry | undefined>;

/** The wait before a read the stream did not answer is sent again: from this, doubling, to {@link RETRY_MAX_MS}. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * The messages the stream holds after `after` and before `before`, in order: none when the gap is messages removed
 * since they were written (nothing was skipped). `undefined` when it holds more than {@link GAP_READ_MAX}, once
 * `wanted()` says the watch no longer waits for them, or once the connection is closed (a new consumer then fails as
 * it should). A read the stream does not answer is sent again, backing off, while wanted: the entries behind the gap
 * wait for it (no new consumer could be created meanwhile either).
 */
export async function readGap(
  after: number,
  before: number,
  next: NextStoredEntry,
  wanted: () => boolean,
): Promise<KvEntry[] | undefined> {
  const found: KvEntry[] = [];
  let from = after;
  let retryMs = RETRY_FIRST_MS;
  while (wanted()) {
    let entry: KvEntry | undefined;
    try {
      entry = await next(from);
    } catch (error) {
      if (closedConnection(error)) return undefined;
      await backgroundPause(retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      continue;
    }
    if (entry === undefined || entry.revision >= before) return found;
    if (found.length === GAP_READ_MAX) return undefined;
    found.push(entry);
    from = entry.revision;
    retryMs = RETRY_FIRST_MS;
  }
  return undefined;
}

/** Most entries waiting for gap checks at once: past that, the consumer's next entry waits. */
const WAITING_MAX = 256;

/**
 * Most gap checks under way at once, for one consumer: enough to cover a round trip of a backlog's gaps, few enough
 * that a stream that does not answer gets a handful of retries, not hundreds.
 */
const CHECKS_MAX = 16;

/** What {@link GapCheckedArrivals} hands its entries to. */
export interface ArrivalDeps {
  /** The stream's first message of the watch's keys after a revision. */
  readonly next: NextStoredEntry;
  /** Whether the watch still wants this consumer's entries (not stopped, not replaced). */
  readonly wanted: () => boolean;
  /** Takes an entry into the batch being gathered, in order. */
  readonly take: (entry: KvEntry) => void;
  /** Entries were taken after waiting for a check: the batch goes out a turn later. */
  readonly tookLater: () => void;
  /** A gap held more than {@link GAP_READ_MAX} messages: a new consumer takes over after the last entry delivered. */
  readonly tooWide: () => void;
}

/** An entry waiting its turn; one that ends a gap has its check, once started. */
interface Waiting {
  readonly entry: KvEntry;
  /** The revision the gap it ends starts after; `undefined` for an entry that ends no gap. */
  readonly gapAfter: number | undefined;
  skipped?: Promise<KvEntry[] | undefined>;
}

/**
 * One consumer's entries, in the order it sent them: one that ends a gap in the revisions waits until the stream has
 * said what it skipped (which goes first), and every entry after it waits its turn. The checks of consecutive gaps run
 * together ({@link CHECKS_MAX} at a time), so a backlog full of gaps (messages removed before the consumer sent them,
 * as after a resume) costs a round trip per {@link CHECKS_MAX} gaps, not one per gap.
 */
export class GapCheckedArrivals {
  readonly #deps: ArrivalDeps;
  readonly #waiting: Waiting[] = [];
  #draining = false;
  /** Checks started and not answered yet. */
  #checking = 0;
  /** The revision of the last entry that arrived (or, before any, the one the consumer started after). */
  #last: number;
  #room: (() => void) | undefined;

  constructor(deps: ArrivalDeps, startedAfter: number) {
    this.#deps = deps;
    this.#last = startedAfter;
  }

  /**
   * An entry the consumer sent. Taken at once, and `true`, when nothing waits ahead of it and it ends no gap (or gaps
   * are not checked: `checkGaps` false, as among the initial entries, which skip the older revisions of each key).
   */
  arrive(entry: KvEntry, checkGaps: boolean): boolean {
    const after = this.#last;
    this.#last = Math.max(after, entry.revision);
    const gap = checkGaps && entry.revision > after + 1;
    if (!gap && this.#waiting.length === 0) {
      this.#deps.take(entry);
      return true;
    }
    this.#waiting.push({ entry, gapAfter: gap ? after : undefined });
    this.#startChecks();
    if (!this.#draining) void this.#drain();
    return false;
  }

  /** Starts the checks of the first waiting gaps, up to {@link CHECKS_MAX} under way. */
  #startChecks(): void {
    for (const waiting of this.#waiting) {
      if (this.#checking >= CHECKS_MAX) return;
      if (waiting.gapAfter === undefined || waiting.skipped !== undefined) continue;
      this.#checking += 1;
      const { next, wanted } = this.#deps;
      // An unexpected rejection counts as a gap too wide to read: a new consumer is safe either way.
      waiting.skipped = readGap(waiting.gapAfter, waiting.entry.revision, next, wanted)
        .catch(() => undefined)
        .finally(() => {
          this.#checking -= 1;
          this.#startChecks();
        });
    }
  }

  /** Resolves once fewer than {@link WAITING_MAX} entries wait; `undefined` when they do already. */
  room(): Promise<void> | undefined {
    if (this.#waiting.length < WAITING_MAX) return undefined;
    return new Promise((resolve) => (this.#room = resolve));
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        const first = this.#waiting[0]!;
        const { entry } = first;
        if (first.gapAfter !== undefined) {
          this.#startChecks();
          const found = await first.skipped;
          if (!this.#deps.wanted()) return;
          if (found === undefined) {
            this.#waiting.length = 0;
            this.#deps.tooWide();
            return;
          }
          found.forEach(this.#deps.take);
        }
        this.#waiting.shift();
        this.#deps.take(entry);
        this.#deps.tookLater();
        if (this.#waiting.length < WAITING_MAX) this.#freeRoom();
      }
    } finally {
      this.#draining = false;
      // A consumer loop waiting for room must not wait for ever once the drain is over, whatever ended it.
      this.#freeRoom();
    }
  }

  #freeRoom(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.();
  }
}
