/**
 * The error the caller of a lost execution gets, naming that execution. Apart from the handle because both ways an
 * execution reaches a module process name it alike: a handle's `execute` and a node's module entry (a request from
 * another node or a client, see module-entry.ts).
 * @module
 */
import { ProcessExitedError } from '../errors.js';

/**
 * @internal The error an execution's caller gets: a `ProcessExitedError` (the module's process exited with the
 * execution in it) names the execution, the session and the module, as the `module.failed` event of it does, so
 * that a caller can tell which of its executions was lost. Any other error is returned as it is.
 */
export function namingExecution(error: unknown, sessionId: string, moduleId: string, executionId: string): unknown {
  if (!(error instanceof ProcessExitedError)) return error;
  const named = new ProcessExitedError(error.target, error.reason, {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    details: { ...error.details, sessionId, moduleId, executionId },
  });
  // Where the exit was seen, not this copy: the message is the same, so the original stack reads true.
  if (error.stack !== undefined) named.stack = error.stack;
  return named;
}
