/**
 * The checks of a node's module processes against the modules bucket, made until each one got an answer: once its
 * connection is back, and when its bucket watch passed by messages removed before it read them. A stop's delete
 * marker may have left the bucket meanwhile (late-removals.ts), and a process nobody checks would go on running a
 * stopped module for every handle held on the node.
 * @module
 */

/** The first wait before checking again those the bucket did not answer for; it doubles up to {@link MAX_WAIT_MS}. */
const FIRST_WAIT_MS = 500;
const MAX_WAIT_MS = 10_000;
/** How long checks may go unanswered before it is reported (once a series). */
const REPORT_AFTER_MS = 30_000;

/** One series of checks at a time per node; asked for while one runs, it makes one more pass. */
export class SpecChecks {
  readonly #check: () => Promise<number>;
  readonly #wanted: () => boolean;
  readonly #report: (error: Error) => void;
  #running = false;
  #again = false;
  /** Ends the wait between two passes early. */
  #wake: (() => void) | undefined;

  /**
   * `check` makes a pass and resolves to how many processes are still unchecked; `wanted` says whether to go on (the
   * connection up, the node not stopping); `report` hears of checks unanswered for {@link REPORT_AFTER_MS}.
   */
  constructor(check: () => Promise<number>, wanted: () => boolean, report: (error: Error) => void) {
    this.#check = check;
    this.#wanted = wanted;
    this.#report = report;
  }

  /** Checks now, or, when a series is under way, has it make one more pass at once. */
  request(): void {
    if (this.#running) {
      this.#again = true;
      this.#wake?.();
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    const started = performance.now();
    let told = false;
    try {
      for (let waitMs = FIRST_WAIT_MS; this.#wanted(); waitMs = Math.min(waitMs * 2, MAX_WAIT_MS)) {
        this.#again = false;
        const left = await this.#check();
        if (left === 0 && !this.#again) return;
        const waited = performance.now() - started;
        if (left > 0 && !told && waited >= REPORT_AFTER_MS) {
          told = true;
          this.#report(
            new Error(
              `${left} module process(es) could not be checked against the modules bucket for ` +
                `${Math.round(waited / 1000)} s (they go on until checked; still trying)`,
            ),
          );
        }
        if (!this.#again) await this.#pause(waitMs);
      }
    } finally {
      this.#running = false;
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      // Not one to keep the process up for.
      const timer = setTimeout(done, ms).unref();
      this.#wake = done;
    });
  }
}
