/**
 * The one check of a timeout a caller gives, to the remote client or in an `execute` request: timers take at most
 * 2^31-1 ms, and a longer one would fire at once instead of waiting.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime.js';
import { show } from '../variables/failure.js';

/**
 * @param forEver whether `Infinity` is taken too, for a wait that may last for ever (a call's, an execution's); a
 *   period that drives a timer (a session's time to live) has none
 * @throws {ValidationError} naming `field` unless `value` is a whole number of milliseconds from 1 to 2^31-1
 */
export function assertTimerMs(field: string, value: unknown, forEver = false): asserts value is number {
  if (typeof value === 'number' && value > 0 && Number.isSafeInteger(value) && value <= MAX_TIMEOUT_MS) return;
  if (forEver && value === Number.POSITIVE_INFINITY) return;
  // Shown bounded, a string quoted: "5" must not read as 5.
  throw new ValidationError(
    `${field} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}${forEver ? ', or Infinity' : ''}, ` +
      `got ${show(value)}`,
    { details: { field } },
  );
}
