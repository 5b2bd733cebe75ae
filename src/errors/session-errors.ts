/**
 * Errors of a session and its variables: not found, gone, already there, a version conflict, a lock.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/** The named variable does not exist in the session. */
export class VariableNotFoundError extends BridgeError {
  override readonly code = 'variable_not_found';
  constructor(
    readonly sessionId: string,
    readonly variable: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`variable '${variable}' not found in session '${sessionId}'`, {
      ...options,
      details: { sessionId, variable, ...options.details },
    });
  }
}

/** Why a session cannot serve a request. */
export type SessionErrorCode = 'session_not_found' | 'session_expired' | 'session_stopped';

/** The session does not exist, expired after its idle TTL, or was stopped. */
export class SessionError extends BridgeError {
  override readonly code: SessionErrorCode;
  /** `sessionId` is {@link EVERY_SESSION} for a refusal that names no one session (a listing after a stop). */
  constructor(
    code: SessionErrorCode,
    readonly sessionId: string,
    options: BridgeErrorOptions = {},
  ) {
    const why = { session_not_found: 'not found', session_expired: 'expired', session_stopped: 'stopped' }[code];
    const which = sessionId === EVERY_SESSION ? 'every session' : `session '${sessionId}'`;
    // A request bound to a life that is not the current one: the session may be there, in another life.
    const life = options.details?.incarnation;
    const ofLife =
      code === 'session_not_found' && typeof life === 'string'
        ? ` in the life the request names ('${life}', Tether-Incarnation): that life is over, or never was`
        : '';
    super(`${which} ${why}${ofLife}`, { ...options, details: { sessionId, ...options.details } });
    this.code = code;
  }
}

/**
 * The `sessionId` of a {@link SessionError} about every session of a runtime or client, none in particular: a
 * stopped runtime's or a closed client's `listSessions` is refused with "every session stopped".
 */
export const EVERY_SESSION = '*';

/**
 * Whether `error` says the session is not there: never opened, deleted, or expired (a life that is over). Narrows to
 * those two codes only: a `SessionError` it is false for (`session_stopped`) stays one.
 */
export const isSessionGone = (
  error: unknown,
): error is SessionError & { readonly code: 'session_not_found' | 'session_expired' } =>
  error instanceof SessionError && (error.code === 'session_not_found' || error.code === 'session_expired');

/** Something with that name or id exists already; the original is kept. */
export class AlreadyExistsError extends BridgeError {
  override readonly code = 'already_exists';
  constructor(
    readonly kind: string,
    readonly id: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`${kind} '${id}' already exists`, { ...options, details: { kind, id, ...options.details } });
  }
}

/** A compare-and-set write found another version than it expected. Nothing was written. */
export class VersionConflictError extends BridgeError {
  override readonly code = 'version_conflict';
  constructor(
    readonly variable: string,
    /** The version the caller named; `undefined` when it named none and the variable kept moving under the write. */
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
    options: BridgeErrorOptions = {},
  ) {
    super(conflictMessage(variable, expectedVersion, actualVersion, options.details), {
      ...options,
      details: { variable, expectedVersion, actualVersion, ...options.details },
    });
  }
}

/**
 * What a {@link VersionConflictError} says: the versions, or, when its details name another id than the one
 * expected (`expectedId`, `actualId`), both ids: the variable was defined again since (its versions start again at
 * 1), or the id expected was never this variable's (a typo, another variable's), which the error cannot tell apart.
 */
function conflictMessage(
  variable: string,
  expectedVersion: number | undefined,
  actualVersion: number | undefined,
  details: Readonly<Record<string, unknown>> | undefined,
): string {
  const at = `is at version ${actualVersion ?? 'none'}`;
  if (typeof details?.expectedId === 'string' && details.expectedId !== details.actualId)
    return (
      `variable '${variable}' has id ${String(details.actualId)}, not the id expected, ${details.expectedId} ` +
      `(it was defined again since, or that id was never this variable's); it ${at}`
    );
  return `variable '${variable}' ${at}, expected version ${expectedVersion ?? 'none'}`;
}

/**
 * The variable is locked by another owner and refuses the write. `details.requestedBy` is who the write named (its
 * `updatedBy`, or the owner an `unlock` or `lock` gave), `null` when it named nobody: always present, so the details
 * read the same in-process and after a trip through JSON, which drops an `undefined`.
 */
export class VariableLockedError extends BridgeError {
  override readonly code = 'variable_locked';
  constructor(
    readonly variable: string,
    readonly lockedBy: string,
    readonly requestedBy: string | undefined,
    options: BridgeErrorOptions = {},
  ) {
    super(`variable '${variable}' is locked by '${lockedBy}'${requestedBy ? `, not '${requestedBy}'` : ''}`, {
      ...options,
      details: { variable, lockedBy, requestedBy: requestedBy ?? null, ...options.details },
    });
  }
}
