/**
 * How far an embedded runtime's router has handed store changes to its session processes, for a write that lost a
 * race: it folds in what it re-read only once the router got that far, as a NATS node's does (tracking-store.ts).
 * @module
 */

/**
 * How long a write that lost a race waits for the router before it folds in what it re-read all the same (its
 * watchers then hear of the versions it skipped as a `gap`): the bound a NATS node's wait has.
 */
export const EMBEDDED_ROUTED_WAIT_MS = 1500;

interface Waiter {
  readonly revision: number;
  readonly resolve: (reached: boolean) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The highest store revision an embedded runtime's router has handed over, and the waits for it. */
export class RoutedRevisions {
  #reached = 0;
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly waitMs = EMBEDDED_ROUTED_WAIT_MS) {}

  /** Notes that the router has handed over every change up to `revision`, and ends the waits it satisfies. */
  note(revision: number): void {
    if (revision <= this.#reached) return;
    this.#reached = revision;
    for (const waiter of this.#waiters) {
      if (waiter.revision <= revision) this.#settle(waiter, true);
    }
  }

  /**
   * Resolves `true` once the router has handed over `revision`, or `false` after the wait's bound (a store whose
   * watch lags further, or stopped); never rejects.
   */
  waitUntil(revision: number): Promise<boolean> {
    if (revision <= this.#reached) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { revision, resolve, timer: setTimeout(() => this.#settle(waiter, false), this.waitMs) };
      // A wait must not keep the Node process alive: the runtime may be stopped meanwhile.
      waiter.timer.unref?.();
      this.#waiters.add(waiter);
    });
  }

  #settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
    waiter.resolve(reached);
  }
}
