/**
 * The one reading of `execute`'s `timeoutMs`, shared by the embedded and the remote module handle, so that a value
 * one takes the other takes too, and a value one refuses the other refuses with the same error: examples run
 * unchanged against a remote runtime.
 * @module
 */
import { durationMs } from '../runtime/duration-ms.js';

/**
 * `timeoutMs` given to an `execute` of module `moduleId` of session `sessionId`, in whole milliseconds: a fraction is
 * rounded up (a wait is never shorter than asked; the wire takes integers), `Infinity` stays (no limit).
 * @throws {ValidationError} (`validation_failed`, `details.field: 'timeoutMs'`) for anything but a number over 0 and
 *   at most 2^31-1 (what a timer can wait), or `Infinity`
 * @example
 * executionTimeoutMs('chat-1', 'qa', 1500.5); // 1501
 */
export function executionTimeoutMs(sessionId: string, moduleId: string, value: unknown): number {
  return durationMs('timeoutMs', value, 'wait', {
    named: `timeoutMs of an execution of module '${moduleId}'`,
    details: { sessionId, moduleId },
  });
}
