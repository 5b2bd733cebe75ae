/**
 * What a Session needs to run module processes. The runtime implements it; the session layer does not build
 * modules itself, so it does not depend on Ax.
 * @module
 */
import type { ModuleHandle } from '../modules/module-handle.js';
import type { SessionContext } from './session-context.js';

/** The module processes of a runtime, as sessions reach them. */
export interface SessionModules {
  /** Starts module `moduleId` of the session; `AlreadyExistsError` when that id is taken in the session. */
  create(session: SessionContext, moduleId: string, spec: unknown): Promise<ModuleHandle>;
  /** The running module `moduleId` of the session; `NoProcError` when there is none. */
  get(sessionId: string, moduleId: string): ModuleHandle;
  /** The running modules of the session, in start order. */
  list(sessionId: string): ModuleHandle[];
}
