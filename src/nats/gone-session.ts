/**
 * What a variable operation of a node needs of a session, and a stand-in for a session that is gone. A request
 * whose session is gone (deleted, expired, or another life than the one it names) still has its operation run, on
 * the stand-in: the operation checks its request's fields first, as on a session that is there, and its first call
 * on the stand-in judges the arguments the Session API judges before it asks the session's process (an empty
 * `updatedBy`, a lock owner, a rollback's version, a glob), then rejects with why the session is gone. So a bad
 * request is refused as such whatever became of its session, as an embedded handle refuses a bad argument first
 * (src/session/arguments-first.ts).
 * @module
 */
import { assertLockArguments } from '../session/argument-checks.js';
import { importRequest, setManyRequest } from '../session/batch-requests.js';
import { assertOptions } from '../session/options.js';
import type { Session } from '../session/session.js';
import { assertHistoryVersion } from '../session/variable-history.js';
import { compileGlob } from '../variables/glob.js';
import { assertVariableName } from '../variables/names.js';

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

type Judge = (...args: any[]) => void;

/**
 * The checks each Session call makes of its arguments before it asks the session's process (session.ts,
 * session-reads.ts, rollback-variable.ts), in the same order, so their errors are word for word the same. What the
 * process judges (a value against its variable's type, a batch's names and records) needs the session and is not here.
 * Names the wire checks itself (session-operations.ts) are checked again by some: harmless, and it keeps each the
 * call's own.
 */
const JUDGES: Partial<Record<(typeof OPERATION_CALLS)[number], Judge>> = {
  listVariables: (pattern: string = '*') => compileGlob(pattern),
  setVariable: (name: string, _value: unknown, options?: unknown) => {
    assertOptions(options, 'setVariable');
    assertVariableName(name);
  },
  deleteVariable: (name: string, options?: unknown) => {
    assertOptions(options, 'deleteVariable');
    assertVariableName(name);
  },
  setVariables: (values: unknown, options: object = {}) => setManyRequest(values, options, ''),
  importVariables: (records: unknown, options: object = {}) => importRequest(records, options, ''),
  recordHistory: (name: string, options?: unknown) => {
    assertOptions(options, 'variableHistory');
    assertVariableName(name);
  },
  rollbackVariable: (name: string, version: unknown, options?: unknown) => {
    assertOptions(options, 'rollbackVariable');
    assertVariableName(name);
    assertHistoryVersion(name, version);
  },
  lockVariable: assertLockArguments,
  unlockVariable: assertLockArguments,
};

/**
 * A stand-in for session `sessionId`, gone for the reason `gone` says: each of its calls rejects with the error of
 * an argument the Session API would refuse, else with `gone`.
 */
export function goneSession(sessionId: string, gone: unknown): OperationSession {
  const refused =
    (judge: Judge | undefined) =>
    async (...args: unknown[]): Promise<never> => {
      judge?.(...args);
      throw gone;
    };
  return Object.freeze({
    sessionId,
    ...Object.fromEntries(OPERATION_CALLS.map((call) => [call, refused(JUDGES[call])])),
  }) as OperationSession;
}
