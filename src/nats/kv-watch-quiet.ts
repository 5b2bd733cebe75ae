/**
 * The checks of a bucket watch that delivers nothing (see kv-watch.ts): a consumer the server moved past the end of
 * the stream, or one lost with its server in a cluster, falls quiet while the stream holds messages for it. Each
 * period in which nothing was delivered, the stream is asked for a message past the last entry delivered; one that is
 * still not delivered a period later means the consumer is lost, and the watch opens another. The period doubles
 * while the watch is found caught up, and starts over with the next delivery. A reader waiting for a revision can ask
 * for a check at once ({@link QuietWatchCheck.checkNow}).
 * @module
 */

/**
 * How long {@link QuietWatchCheck.checkNow} gives a message it found to be delivered while nothing else is. A message
 * is on its way for well under a millisecond normally; a needless new consumer costs the server a little, and misses
 * nothing.
 */
export const NUDGE_CONFIRM_MS = 200;

/**
 * How many such spells {@link QuietWatchCheck.checkNow} waits out while the watch delivers other entries (it drains
 * a backlog, and may have been moved past the message at its end): about the 2 s a reader waits.
 */
export const NUDGE_SPELLS = 10;

/** What the checks ask of their watch. */
export interface QuietCheckDeps {
  /** The revision of the stream's first message of the watch's keys after `after`; `undefined` when none. */
  readonly nextStored: (after: number) => Promise<number | undefined>;
  /** Every entry up to this revision is delivered; `undefined` while no consumer is open (opening, or ended). */
  readonly position: () => number | undefined;
  /** Opens a new consumer after the position, for the message at `revision` that was not delivered. */
  readonly reopen: (revision: number) => void;
}

/** The period of the checks: from `firstMs`, doubling to `maxMs` while the watch is caught up. */
export interface QuietCheckTiming {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** The checks of one watch; {@link QuietWatchCheck.start} runs them. */
export class QuietWatchCheck {
  readonly #deps: QuietCheckDeps;
  /** Without it, no periodic checks: only {@link QuietWatchCheck.checkNow}. */
  readonly #timing: QuietCheckTiming | undefined;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  /** Whether a periodic check is under way: it schedules the next one when done. */
  #checking = false;
  /** Whether an entry was delivered since the last periodic check. */
  #moved = false;
  /** Entries delivered so far: whether any came in a while. */
  #deliveries = 0;
  /** A revision the stream held while the watch delivered nothing, to be delivered by the next check. */
  #awaited: number | undefined;
  #nudged = false;

  constructor(deps: QuietCheckDeps, timing: QuietCheckTiming | undefined) {
    this.#deps = deps;
    this.#timing = timing;
    this.#delay = timing?.firstMs ?? 0;
  }

  /** Runs the periodic checks, a first period from now; a no-op while they run. */
  start(): void {
    if (this.#running || this.#timing === undefined) return;
    this.#running = true;
    this.#delay = this.#timing.firstMs;
    this.#schedule();
  }

  /** Stops them: the watch stopped, or ended on its own (a resume starts them again). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * An entry was delivered: the consumer is alive. After a quiet spell, the next check comes a first period on
   * rather than at the end of a long one: a consumer moved past the end falls quiet right after what it skipped.
   */
  delivered(): void {
    this.#moved = true;
    this.#deliveries += 1;
    if (this.#timing === undefined || this.#delay === this.#timing.firstMs) return;
    this.#delay = this.#timing.firstMs;
    if (!this.#checking) this.#schedule();
  }

  /**
   * A reader waits for a revision the bucket holds and the watch has not delivered: asks the stream now for a
   * message past the last entry delivered, and opens a new consumer if it is still not delivered after a spell of
   * {@link NUDGE_CONFIRM_MS} in which nothing else was either (waiting out up to {@link NUDGE_SPELLS} spells in which
   * other entries came), rather than leave the reader waiting for the next period. Ignored while one is under way.
   */
  async checkNow(): Promise<void> {
    const position = this.#deps.position();
    if (this.#nudged || position === undefined) return;
    this.#nudged = true;
    try {
      const found = await this.#deps.nextStored(position).catch(() => undefined);
      if (found === undefined || found <= position) return;
      for (let spell = 0; spell < NUDGE_SPELLS; spell += 1) {
        const before = this.#deliveries;
        await new Promise<void>((resolve) => setTimeout(resolve, NUDGE_CONFIRM_MS).unref());
        const now = this.#deps.position();
        // Delivered, or no consumer open (stopped, ended, or one opening): nothing left to check.
        if (now === undefined || now >= found) return;
        // Nothing came at all: the consumer is lost. Other entries came: it is alive, and may yet get there.
        if (this.#deliveries === before) return this.#deps.reopen(found);
      }
    } finally {
      this.#nudged = false;
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#checking = true;
      void this.#check().finally(() => {
        this.#checking = false;
        this.#schedule();
      });
    }, this.#delay);
    // The checks must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const position = this.#deps.position();
    const timing = this.#timing;
    if (position === undefined || timing === undefined) return;
    if (this.#moved) {
      this.#moved = false;
      this.#awaited = undefined;
      this.#delay = timing.firstMs;
      return;
    }
    const awaited = this.#awaited;
    this.#awaited = undefined;
    if (awaited !== undefined && position < awaited) return this.#deps.reopen(awaited);
    try {
      this.#awaited = await this.#deps.nextStored(position);
      // Caught up, it is asked less and less often; a message to wait for is looked at again a period on.
      this.#delay = this.#awaited === undefined ? Math.min(this.#delay * 2, timing.maxMs) : timing.firstMs;
    } catch {
      // JetStream not answering proves nothing about the consumer: the next period asks again.
      this.#delay = timing.firstMs;
    }
  }
}
