/**
 * The one reading of `execute`'s `timeoutMs`, shared by the embedded and the remote module handle, so that a value
 * one takes the other takes too, and a value one refuses the other refuses with the same error: examples run
 * unchanged against a remote runtime.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime.js';
import { show } from '../variables/failure.js';

/**
 * `timeoutMs` given to an `execute` of module `moduleId` of session `sessionId`, in whole milliseconds: a fraction is
 * rounded up (a wait is never shorter than asked; the wire takes integers), `Infinity` stays (no limit).
 * @throws {ValidationError} (`validation_failed`, `details.field: 'timeoutMs'`) for anything but a number over 0 and
 *   at most 2^31-1 (what a timer can wait), or `Infinity`
 * @example
 * executionTimeoutMs('chat-1', 'qa', 1500.5); // 1501
 */
export function executionTimeoutMs(sessionId: string, moduleId: string, value: unknown): number {
  if (typeof value === 'number' && value > 0 && (value <= MAX_TIMEOUT_MS || value === Number.POSITIVE_INFINITY))
    return Math.ceil(value);
  // Shown bounded, a string quoted: "5" must not read as 5.
  throw new ValidationError(
    `timeoutMs of an execution of module '${moduleId}' must be a number of milliseconds over 0 and at most ` +
      `${MAX_TIMEOUT_MS}, or Infinity for no limit; got ${show(value)}`,
    { details: { field: 'timeoutMs', sessionId, moduleId } },
  );
}
