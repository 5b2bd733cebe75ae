/**
 * What the module endpoints need from the node they run on: its module processes, reached by session and module
 * id. The node (src/node) implements it over its module directory, so this layer depends on no runtime internals.
 * @module
 */
import type { ExecutionResult } from '../../machines/module.machine.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import type { ModuleSpec } from '../modules/module-spec.js';
import type { Session } from '../session/session.js';

/** Options of {@link ModuleHost.execute}. */
export interface HostExecuteOptions {
  /** The id the client chose, so that it can cancel the execution and find it in the events. */
  readonly executionId: string;
  /** How long to wait, queue time included. @default the node's execution timeout */
  readonly timeoutMs?: number;
}

/** A node's module processes, as the module endpoints reach them. */
export interface ModuleHost {
  /**
   * The module's process on this node; when there is none, `load` gives its spec and a process is started from
   * it without claiming the id again (it is claimed already). Concurrent wakes of one module share one start.
   * @throws {ModuleNotFoundError} when `load` finds no spec
   */
  wake(session: Session, moduleId: string, load: () => Promise<ModuleSpec | undefined>): Promise<ModuleHandle>;
  /** Queues one execution in the module's mailbox on this node (`NoProcError` without a process here). */
  execute(
    sessionId: string,
    moduleId: string,
    inputs: Readonly<Record<string, unknown>>,
    options: HostExecuteOptions,
  ): Promise<ExecutionResult>;
  /** Cancels an execution queued or running on this node; resolves `true` when there was one to cancel. */
  cancel(sessionId: string, moduleId: string, executionId: string, reason?: string): Promise<boolean>;
  /** Stops the module's process on this node, if it has one; resolves `true` when it had. */
  stopLocal(sessionId: string, moduleId: string): Promise<boolean>;
}
