/**
 * The one check of a timeout a caller gives the remote client: timers take at most 2^31-1 ms, and a longer one
 * would fire at once instead of waiting.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime.js';

/** @throws {ValidationError} naming `field` unless `value` is a whole number of milliseconds from 1 to 2^31-1 */
export function assertTimerMs(field: string, value: number): void {
  if (value > 0 && Number.isSafeInteger(value) && value <= MAX_TIMEOUT_MS) return;
  throw new ValidationError(
    `${field} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${value}`,
    { details: { field } },
  );
}
