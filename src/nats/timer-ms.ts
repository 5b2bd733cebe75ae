/**
 * The one check of a timeout a caller gives, to the remote client or in an `execute` request: timers take at most
 * 2^31-1 ms, and a longer one would fire at once instead of waiting.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
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
