/**
 * The one check of a timeout a caller gives, to the remote client or in an `execute` request: timers take at most
 * 2^31-1 ms, and a longer one would fire at once instead of waiting.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime.js';
import { show } from '../variables/failure.js';

/** @throws {ValidationError} naming `field` unless `value` is a whole number of milliseconds from 1 to 2^31-1 */
export function assertTimerMs(field: string, value: unknown): asserts value is number {
  if (typeof value === 'number' && value > 0 && Number.isSafeInteger(value) && value <= MAX_TIMEOUT_MS) return;
  // Shown bounded, a string quoted: "5" must not read as 5.
  throw new ValidationError(
    `${field} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${show(value)}`,
    { details: { field } },
  );
}

/**
 * A duration given in process (a `Runtime.start` option), read as `execute`'s `timeoutMs` is: over 0, a fraction
 * rounded up (never shorter than asked), `Infinity` for none. A `wait` (a call's, an execution's) is at most 2^31-1
 * ms, what a timer can wait; a period (a session's time to live) is checked by sweeps, not one timer, and has no top.
 * @throws {ValidationError} naming `field` for anything else
 * @example
 * durationMs('callTimeoutMs', 2500.5, 'wait'); // 2501
 */
export function durationMs(field: string, value: unknown, kind: 'wait' | 'period'): number {
  const top = kind === 'wait' ? MAX_TIMEOUT_MS : Number.MAX_VALUE;
  if (typeof value === 'number' && value > 0 && (value <= top || value === Number.POSITIVE_INFINITY))
    return Math.ceil(value);
  const range =
    kind === 'wait'
      ? `over 0 and at most ${MAX_TIMEOUT_MS}, or Infinity for no limit`
      : 'over 0, or Infinity for never';
  throw new ValidationError(`${field} must be a number of milliseconds ${range}; got ${show(value)}`, {
    details: { field },
  });
}
