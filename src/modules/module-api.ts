/**
 * What every module handle offers, whether it drives a module in this process (`ModuleHandle`) or on the nodes
 * through the remote client (`RemoteModuleHandle`): code typed against it runs unchanged on either.
 * @module
 */
import type { ExecutionResult, ModuleDescription } from '../../machines/module.machine.js';
import type { ExecuteOptions } from './module-handle.js';
import type { ModuleEventListener, ModuleEventType } from './module-event-type.js';

/** A module handle of either kind; see `ModuleHandle` and `RemoteModuleHandle` for how each goes about it. */
export interface ModuleApi {
  readonly sessionId: string;
  readonly moduleId: string;
  /** The life of its session on a NATS system (see `SessionContext.incarnation`); `undefined` where none is known. */
  readonly incarnation?: string | undefined;
  /** Whether the handle can still run the module (not stopped, its session not ended). */
  readonly alive: boolean;
  /** Runs the module once with `inputs` (sync, then execute): the result with the versions of the values it used. */
  execute(inputs: Readonly<Record<string, unknown>>, options?: ExecuteOptions): Promise<ExecutionResult>;
  /** The module's type, signature, state and counts. */
  describe(): Promise<ModuleDescription>;
  /** Listens for the module's events of `type`; returns the function that stops listening. */
  on<T extends ModuleEventType>(type: T, listener: ModuleEventListener<T>): () => void;
  /** Listens for the module's state changes (`idle`, `syncing`, `executing`); returns the function that stops it. */
  onState(listener: (state: ModuleDescription['state'], executionId: string | undefined) => void): () => void;
  /** Stops the module (on a NATS system, on every node). */
  stop(): Promise<void>;
}
