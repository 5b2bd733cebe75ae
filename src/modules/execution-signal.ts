/**
 * The one reading of `execute`'s `signal`, shared by the embedded and the remote module handle (as
 * execution-timeout.ts is for `timeoutMs`). Passing the `AbortController` itself rather than its `signal` is an
 * easy slip: embedded it failed as a bare `TypeError`, remotely as an `InternalError` that left a listener behind,
 * which threw when the client closed.
 * @module
 */
import { ExecutionAbortedError, ValidationError } from '../errors.js';
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

/**
 * `error` with the abort reason of `signal` as its cause, when it is the `execution_aborted` the module process
 * answered for that abort (`details.reason` is `reason`, the signal's as the cancel worded it): the process's reply
 * carries only the words, and the caller's own reason (an `Error`, an object it matches on) would be lost, which a
 * signal aborted before the call, and a remote handle's abort, keep. Any other error is returned as it is.
 */
export function withAbortCause(error: unknown, signal: AbortSignal | undefined, reason: string): unknown {
  if (!signal?.aborted || !(error instanceof ExecutionAbortedError) || error.cause !== undefined) return error;
  if (error.details.reason !== reason) return error;
  const named = new ExecutionAbortedError(error.moduleId, error.executionId, {
    cause: signal.reason,
    details: error.details,
  });
  // Where the abort was answered, not this copy: the message is the same.
  if (error.stack !== undefined) named.stack = error.stack;
  return named;
}
