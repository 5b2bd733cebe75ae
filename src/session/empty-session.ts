/**
 * A session with no variables, for judging what a write would meet in a session that is not there yet: a module
 * spec built against it is refused as the first one in a new session would be (a bound variable missing, a
 * signature Ax refuses), with nothing started, claimed or written (see `ModuleHost.judgeCreate`).
 * @module
 */
import { VariableNotFoundError } from '../errors.js';
import { assertVariableName } from '../variables/names.js';
import type { SessionContext } from './session-context.js';

/**
 * The empty session `sessionId`: every read misses, as a new session's does (`VariableNotFoundError`, or
 * `ValidationError` for a name no variable can have), every write is refused as one to a missing variable, and a
 * watch hears nothing.
 * @example
 * await ModuleInstance.create('qa', emptySession('chat-1'), spec); // rejects: a bound variable is missing
 */
export function emptySession(sessionId: string): SessionContext {
  const notFound = async (name: string): Promise<never> => {
    assertVariableName(name);
    throw new VariableNotFoundError(sessionId, name);
  };
  return {
    sessionId,
    getVariable: notFound,
    setVariable: notFound,
    readVariables: async (names) => ({ found: {}, missing: [...names] }),
    readVariablesNow: (names) => ({ found: {}, missing: [...names] }),
    watchVariables: async () => () => {},
  };
}
