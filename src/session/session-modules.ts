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
  /**
   * The module `moduleId` of the session: its process here, or on a NATS node one woken here from its spec in the
   * modules bucket (a module created through another node); `ModuleNotFoundError` when there is none.
   */
  find(session: SessionContext, moduleId: string): Promise<ModuleHandle>;
  /** The modules of the session running on this node, sorted by id (`compareModuleIds`). */
  list(sessionId: string): ModuleHandle[];
}
