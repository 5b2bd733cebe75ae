/**
 * The one reading of `execute`'s `signal`, shared by the embedded and the remote module handle (as
 * execution-timeout.ts is for `timeoutMs`). Passing the `AbortController` itself rather than its `signal` is an
 * easy slip: embedded it failed as a bare `TypeError`, remotely as an `InternalError` that left a listener behind,
 * which threw when the client closed.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';

/**
 * `signal` given to an `execute` of module `moduleId` of session `sessionId`: an `AbortSignal`, or `undefined`.
 * @throws {ValidationError} (`validation_failed`, `details.field: 'signal'`) for anything else, before anything runs
 * @example
 * executionSignal('chat-1', 'qa', controller.signal); // controller.signal
 */
export function executionSignal(sessionId: string, moduleId: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  const got = signal instanceof AbortController ? 'an AbortController (pass its .signal)' : show(signal);
  throw new ValidationError(`signal of an execution of module '${moduleId}' must be an AbortSignal, got ${got}`, {
    details: { field: 'signal', constraint: 'type', sessionId, moduleId },
  });
}
