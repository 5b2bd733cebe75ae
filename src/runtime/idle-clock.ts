/**
 * Idle time by key, with one sweeper for all keys: 100,000 sessions or processes going idle must not cost
 * 100,000 timers, each re-armed on every message.
 * @module
 */

interface Activity {
  last: number;
  readonly afterMs: number;
}

/**
 * `performance.now()` in whole milliseconds: an {@link IdleClock}'s default clock, and the one a node's session uses
 * are told on (session-uses.ts), which no step of the system clock moves.
 */
export const monotonicNow = (): number => Math.floor(performance.now());

/** The sweep period for a key idle after `afterMs`: a quarter of it, between 5 ms and 1 s. */
function sweepPeriod(afterMs: number): number {
  return Math.min(1000, Math.max(5, Math.floor(afterMs / 4)));
}

/**
 * Last activity per key. Every tracked key idle for its `afterMs` or more is passed to `onIdle` at each sweep
 * until it is touched or forgotten; sweeps run every quarter of the shortest `afterMs` tracked (5 ms to 1 s), so
 * a key is reported up to that much past its time. The sweeper runs only while keys are tracked, slows down
 * again when the keys with short times are gone, and never keeps a Node process alive.
 * @example
 * const clock = new IdleClock<string>((id) => hibernate(id));
 * clock.touch('worker-1', 30_000); // on every message to worker-1
 */
export class IdleClock<K> {
  readonly #activity = new Map<K, Activity>();
  #period = Number.POSITIVE_INFINITY;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  /**
   * @param clock milliseconds on a clock that only goes forward: the default, the monotonic clock, because a
   *   system clock stepped back (NTP, a resumed VM) would keep every key awake for as long as the step, and one
   *   stepped forward would report keys used a moment ago as idle (an embedded runtime would expire their sessions);
   *   in whole milliseconds, so that a key's last activity reads the same at every call (a session's last use,
   *   which session-expiry.ts turns into a time on the server's clock once)
   */
  constructor(
    private readonly onIdle: (key: K) => void,
    private readonly clock: () => number = monotonicNow,
  ) {}

  /** Counts `key` as active now. `afterMs` applies when the key is not tracked yet; a tracked key keeps its own. */
  touch(key: K, afterMs: number): void {
    const activity = this.#activity.get(key);
    if (activity) {
      activity.last = this.clock();
      return;
    }
    this.#activity.set(key, { last: this.clock(), afterMs });
    this.#armFor(afterMs);
  }

  /** Milliseconds since the key's last activity; 0 for a key not tracked. */
  idleFor(key: K): number {
    const activity = this.#activity.get(key);
    return activity === undefined ? 0 : this.clock() - activity.last;
  }

  /** When the key was last active, on this clock (by default `monotonicNow()`); `undefined` for a key not tracked. */
  lastActiveAt(key: K): number | undefined {
    return this.#activity.get(key)?.last;
  }

  forget(key: K): void {
    this.#activity.delete(key);
  }

  /** Stops sweeping for good; later touches are still counted but never reported. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #armFor(afterMs: number): void {
    const period = sweepPeriod(afterMs);
    if (period < this.#period) this.#arm(period);
  }

  #arm(period: number): void {
    this.#disarm();
    if (this.#stopped) return;
    this.#period = period;
    this.#sweeper = setInterval(() => this.#sweep(), period);
    this.#sweeper.unref();
  }

  #disarm(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#period = Number.POSITIVE_INFINITY;
  }

  #sweep(): void {
    // Nothing left to watch: the next touch arms the sweeper again, at that key's period.
    if (this.#activity.size === 0) return this.#disarm();
    const now = this.clock();
    let shortest = Number.POSITIVE_INFINITY;
    for (const [key, activity] of this.#activity) {
      shortest = Math.min(shortest, activity.afterMs);
      if (now - activity.last < activity.afterMs) continue;
      try {
        this.onIdle(key);
      } catch (error) {
        // A timer callback that throws would take the Node process down; one key's failure must not.
        console.error('[tether] idle handler threw for', key, error);
      }
    }
    // The keys with the shortest times may all be gone: sweep no more often than those left need.
    if (sweepPeriod(shortest) > this.#period) this.#arm(sweepPeriod(shortest));
  }
}
