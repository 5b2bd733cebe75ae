/**
 * The error the caller of a lost execution gets, naming that execution. Apart from the handle because both ways an
 * execution reaches a module process name it alike: a handle's `execute` and a node's module entry (a request from
 * another node or a client, see module-entry.ts).
 * @module
 */
import type { ModuleMachineContext } from '../../machines/module.machine.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ModuleLogic } from './module-logic.js';
import { CallTimeoutError, ProcessExitedError } from '../errors.js';

/** What an execution is doing: waiting in the module's mailbox, or the module's state while it is the current one. */
export type ExecutionStage = 'queued' | 'syncing' | 'executing';

/**
 * What execution `executionId` is doing in a module process whose snapshot is `snapshot`, or `undefined` when the
 * process has none such (it ended, or the execution never reached it).
 */
export function stageOf(
  snapshot: { readonly value: unknown; readonly context: ModuleMachineContext },
  executionId: string,
): ExecutionStage | undefined {
  const { current, mailbox } = snapshot.context;
  if (current?.executionId === executionId)
    return snapshot.value === 'syncing' || snapshot.value === 'executing' ? snapshot.value : undefined;
  return mailbox.has(executionId) ? 'queued' : undefined;
}

/**
 * @internal The error an execution's caller gets: a `ProcessExitedError` (the module's process exited with the
 * execution in it) or a `CallTimeoutError` (its wait ran out) names the execution, the session and the module, as
 * the `module.failed` event of it does, so that a caller can tell which of its executions was lost; a timeout also
 * says what the execution was doing then (`stage`, see {@link stageOf}). A remote
 * handle names a timeout of its own wait alike (remote-execution.ts). Any other error is returned as it is.
 */
export function namingExecution(
  error: unknown,
  sessionId: string,
  moduleId: string,
  executionId: string,
  stage?: ExecutionStage,
): unknown {
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
      details: { ...error.details, sessionId, moduleId, executionId, ...(stage ? { stage } : {}) },
    });
  } else {
    return error;
  }
  // Where the exit or the timeout was seen, not this copy: the message is the same, so the original stack reads true.
  if (error.stack !== undefined) named.stack = error.stack;
  return named;
}

/**
 * @internal What the caller of an execution whose `call` to module process `process` failed with `error` gets (see
 * {@link namingExecution}). A timed-out execution is cancelled by `cancel`, so it neither blocks the mailbox nor
 * costs a provider call, once what it was doing is read (a running one, once every timeout due with it has been
 * read). The embedded handle and a node's module entry both call it.
 */
export function lostExecutionError(
  error: unknown,
  process: ProcessRef<ModuleLogic>,
  ids: { readonly sessionId: string; readonly moduleId: string; readonly executionId: string },
  cancel: () => void,
): unknown {
  const { sessionId, moduleId, executionId } = ids;
  if (!(error instanceof CallTimeoutError)) return namingExecution(error, sessionId, moduleId, executionId);
  const stage = process.alive ? stageOf(process.getSnapshot(), executionId) : undefined;
  // A running one is cancelled once the timers due now have all run: executions queued with the same deadline time
  // out in the same instant, and its cancel would take the next from the mailbox before that one's own timeout is
  // read (reported as running, its request begun only to be aborted). A queued one's cancel takes nothing out.
  if (stage === 'queued') cancel();
  else setImmediate(cancel);
  return namingExecution(error, sessionId, moduleId, executionId, stage);
}
