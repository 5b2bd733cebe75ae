/**
 * What a variable operation of a node needs of a session, and a stand-in for a session that is gone. A request
 * whose session is gone (deleted, expired, or another life than the one it names) still has its operation run, on
 * the stand-in: the operation checks its request's fields first, as on a session that is there, and its first call
 * on the stand-in rejects with why the session is gone. So a bad request is refused as such whatever became of its
 * session, as an embedded handle refuses a bad argument first (src/session/arguments-first.ts).
 * @module
 */
import type { Session } from '../session/session.js';

/** The calls of the Session API a variable operation makes (session-operations.ts). */
const OPERATION_CALLS = [
  'defineVariable',
  'describeVariable',
  'describeFresh',
  'hasVariable',
  'listVariables',
  'readVariables',
  'setVariable',
  'deleteVariable',
  'setVariables',
  'recordHistory',
  'rollbackVariable',
  'lockVariable',
  'unlockVariable',
  'exportVariables',
  'importVariables',
] as const;

/** The session a variable operation runs on: every call it makes, and the session's id. */
export type OperationSession = Pick<Session, 'sessionId' | (typeof OPERATION_CALLS)[number]>;

/** A stand-in for session `sessionId`, gone for the reason `gone` says: each of its calls rejects with `gone`. */
export function goneSession(sessionId: string, gone: unknown): OperationSession {
  const refused = (): Promise<never> => Promise.reject(gone);
  return Object.freeze({
    sessionId,
    ...Object.fromEntries(OPERATION_CALLS.map((call) => [call, refused])),
  }) as OperationSession;
}
