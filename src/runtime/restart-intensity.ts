/**
 * OTP's restart intensity: how many restarts a supervisor may make in a sliding window before it gives up.
 * @module
 */

/** The intensity limits shared by `Supervisor` and `DynamicSupervisor`. */
export interface RestartIntensityOptions {
  /** Restarts allowed within `maxSeconds`; one more makes the supervisor exit. @default 3 */
  readonly maxRestarts?: number;
  /** The length of the sliding window, in seconds. @default 5 */
  readonly maxSeconds?: number;
}

/**
 * Counts restarts in a sliding window. Reads `Date.now()`, so fake timers control it in tests.
 * @internal
 */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly maxSeconds: number;
  #restarts: number[] = [];

  constructor({ maxRestarts = 3, maxSeconds = 5 }: RestartIntensityOptions = {}) {
    this.maxRestarts = maxRestarts;
    this.maxSeconds = maxSeconds;
  }

  /**
   * Records one restart; false when it is one too many. As in OTP, `maxRestarts` restarts within the window
   * are allowed and the next one is not, so `maxRestarts: 0` forbids restarting at all.
   */
  record(now = Date.now()): boolean {
    const windowStart = now - this.maxSeconds * 1000;
    this.#restarts = this.#restarts.filter((at) => at > windowStart);
    this.#restarts.push(now);
    return this.#restarts.length <= this.maxRestarts;
  }
}
