/**
 * The error the caller of a lost execution gets, naming that execution. Apart from the handle because both ways an
 * execution reaches a module process name it alike: a handle's `execute` and a node's module entry (a request from
 * another node or a client, see module-entry.ts).
 * @module
 */
import { CallTimeoutError, ProcessExitedError } from '../errors.js';

/**
 * @internal The error an execution's caller gets: a `ProcessExitedError` (the module's process exited with the
 * execution in it) or a `CallTimeoutError` (its wait ran out) names the execution, the session and the module, as
 * the `module.failed` event of it does, so that a caller can tell which of its executions was lost. A remote
 * handle names a timeout of its own wait alike (remote-module.ts). Any other error is returned as it is.
 */
export function namingExecution(error: unknown, sessionId: string, moduleId: string, executionId: string): unknown {
  const cause = error instanceof Error && error.cause !== undefined ? { cause: error.cause } : {};
  let named: ProcessExitedError | CallTimeoutError;
  if (error instanceof ProcessExitedError) {
    named = new ProcessExitedError(error.target, error.reason, {
      ...cause,
      details: { ...error.details, sessionId, moduleId, executionId },
    });
  } else if (error instanceof CallTimeoutError) {
    named = new CallTimeoutError(error.target, error.timeoutMs, {
      ...cause,
      details: { ...error.details, sessionId, moduleId, executionId },
    });
  } else {
    return error;
  }
  // Where the exit or the timeout was seen, not this copy: the message is the same, so the original stack reads true.
  if (error.stack !== undefined) named.stack = error.stack;
  return named;
}
