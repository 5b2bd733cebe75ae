/**
 * OTP's restart intensity: how many restarts a supervisor may make in a sliding window before it gives up.
 * @module
 */
import { invalidOption } from './supervisor-options.js';

/** The intensity limits shared by `Supervisor` and `DynamicSupervisor`. */
export interface RestartIntensityOptions {
  /** Restarts allowed within `maxSeconds`, a whole number ≥ 0; one more makes the supervisor exit. @default 3 */
  readonly maxRestarts?: number;
  /** The length of the sliding window, in seconds: a finite number > 0. @default 5 */
  readonly maxSeconds?: number;
}

/**
 * Counts restarts in a sliding window of elapsed time, read on the monotonic clock (`performance.now()`) as OTP reads
 * `erlang:monotonic_time`: a system clock stepped back (NTP after a VM resumed) would otherwise keep restarts made long
 * ago in the window, and make a supervisor give up on one crash.
 * @internal
 */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly maxSeconds: number;
  #restarts: number[] = [];

  /**
   * @throws {ValidationError} when `maxRestarts` is not a whole number ≥ 0 or `maxSeconds` not a finite number
   * > 0: an infinite or NaN limit would never be reached, and a supervisor would restart a failing child for ever
   */
  constructor({ maxRestarts = 3, maxSeconds = 5 }: RestartIntensityOptions = {}) {
    if (!(typeof maxRestarts === 'number' && Number.isSafeInteger(maxRestarts) && maxRestarts >= 0))
      throw invalidOption('supervisor', 'maxRestarts', 'a whole number ≥ 0', maxRestarts);
    if (!(typeof maxSeconds === 'number' && Number.isFinite(maxSeconds) && maxSeconds > 0))
      throw invalidOption('supervisor', 'maxSeconds', 'a finite number > 0', maxSeconds);
    this.maxRestarts = maxRestarts;
    this.maxSeconds = maxSeconds;
  }

  /**
   * Records one restart; false when it is one too many. As in OTP, `maxRestarts` restarts within the window
   * are allowed and the next one is not, so `maxRestarts: 0` forbids restarting at all.
   */
  record(now = performance.now()): boolean {
    const windowStart = now - this.maxSeconds * 1000;
    // A restart exactly `maxSeconds` ago is still in the window, as OTP keeps one made at its threshold.
    this.#restarts = this.#restarts.filter((at) => at >= windowStart);
    this.#restarts.push(now);
    return this.#restarts.length <= this.maxRestarts;
  }
}
