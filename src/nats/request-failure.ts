/**
 * The remote client's NATS failures as Tether errors. A request that got no reply while this client's own connection
 * dropped during its wait fails with `NatsConnectionError` (`disconnected`), not `CallTimeoutError`: the silence
 * is the client's connection's doing, not the node's. nats.js keeps such a request waiting through the outage
 * (its reply subscription is sent again on reconnect, so a reply published after that still arrives), but loses
 * both ways what passes meanwhile: a reply published while the client is away is dropped by the server, and a
 * request published while it is away is dropped with the rest of its unsent output when it dials again (so a
 * request made while it is down is held until it is back, and fails as not applied if it never is). A request
 * in flight as the connection dropped may thus have been applied or not: the error's `details.outcome` is
 * `unknown` for any request that may write (everything but the reads), and its message says so. So is a
 * `call_timeout` of this client's own timeout: the node may still apply what it got.
 * @module
 */
import { ErrorCode, type NatsConnection, type NatsError } from 'nats';
import {
  CallTimeoutError,
  InternalError,
  NatsConnectionError,
  NodeLostError,
  NoProcError,
  ValidationError,
} from '../errors.js';
import type { ConnectionLink } from './connection-link.js';
import { MODULE_READS, VARIABLE_READS } from './operations.js';
import type { TetherSubjects } from './subjects.js';
import { messageOf } from '../printable.js';
import { refusalOf, refusedError } from './permission-refusal.js';

/** The connection's state as a request started waiting, to tell whether it dropped during the wait. */
export interface WaitStart {
  readonly drops: number;
  readonly down: boolean;
}

/** The state of `link` now, for {@link droppedDuring} later. */
export function waitStart(link: ConnectionLink): WaitStart {
  return { drops: link.drops, down: link.down };
}

/** Whether the connection was down at some point since `start`: down then, down now, or dropped in between. */
export function droppedDuring(link: ConnectionLink, start: WaitStart): boolean {
  return start.down || link.down || link.drops !== start.drops;
}

/**
 * What a request to `subject` may have done: `read` (nothing), `execute` (a module execution) or `write`. A request
 * another node passed on (a module's `execute` or `describe`, on its forward subject) is what its operation is.
 */
export function requestKind(subjects: TetherSubjects, subject: string): 'read' | 'execute' | 'write' {
  if (subject === subjects.sessionsList()) return 'read';
  const forwarded = subjects.parseModuleForward(subject)?.operation;
  if (forwarded === 'execute') return 'execute';
  if (forwarded !== undefined) return MODULE_READS.has(forwarded) ? 'read' : 'write';
  const variable = subjects.parseRequest(subject);
  if (variable) return variable.kind === 'var' && VARIABLE_READS.has(variable.operation) ? 'read' : 'write';
  const module = subjects.parseModuleRequest(subject);
  if (module?.kind === 'list') return 'read';
  if (module?.operation === 'execute') return 'execute';
  return module && MODULE_READS.has(module.operation) ? 'read' : 'write';
}

/**
 * The error of a request to `subject` that got no reply within `timeoutMs` because this client's connection
 * dropped during its wait; `down`: it still is.
 */
export function droppedWhileWaiting(
  connection: NatsConnection,
  subjects: TetherSubjects,
  subject: string,
  timeoutMs: number,
  down: boolean,
  cause?: unknown,
): NatsConnectionError {
  const why = down
    ? "this client's NATS connection dropped while it waited and is still down"
    : "this client's NATS connection dropped while it waited, and a reply sent before it was back is lost";
  const kind = requestKind(subjects, subject);
  const fate = {
    read: 'a read, it changed nothing',
    execute: 'whether it ran is unknown',
    write: 'whether it was applied is unknown',
  }[kind];
  return new NatsConnectionError(
    'disconnected',
    connection.getServer(),
    `request to '${subject}' got no reply within ${timeoutMs} ms: ${why}; ${fate}`,
    {
      ...(cause === undefined ? {} : { cause }),
      details: { subject, timeoutMs, ...(kind === 'read' ? {} : { outcome: 'unknown' }) },
    },
  );
}

/**
 * The error of a request to `subject` that was never sent: this client's connection was down from the call to the
 * end of its `timeoutMs` (a request is held while it is down, see watched-request.ts), so it did nothing.
 */
export function downUntilTimeout(
  connection: NatsConnection,
  subjects: TetherSubjects,
  subject: string,
  timeoutMs: number,
): NatsConnectionError {
  const kind = requestKind(subjects, subject);
  const fate = { read: 'a read, it changed nothing', execute: 'it did not run', write: 'it was not applied' }[kind];
  return new NatsConnectionError(
    'disconnected',
    connection.getServer(),
    `request to '${subject}' not sent: this client's NATS connection was down from the call until its timeout ` +
      `(${timeoutMs} ms); ${fate}`,
    { details: { subject, timeoutMs, ...(kind === 'read' ? {} : { outcome: 'not_applied' }) } },
  );
}

/**
 * The error of a request to `subject` that got no reply within this client's `timeoutMs`, its connection up all along:
 * the node may still be at it (a late notice lost with a server under it, a timeout given to `connect` shorter than
 * an election), so a request that may write may yet be applied.
 */
function clientTimeout(
  subjects: TetherSubjects,
  subject: string,
  timeoutMs: number,
  cause?: unknown,
): CallTimeoutError {
  const read = requestKind(subjects, subject) === 'read';
  return new CallTimeoutError(subject, timeoutMs, {
    ...(cause === undefined ? {} : { cause }),
    ...(read ? {} : { details: { outcome: 'unknown' } }),
  });
}

/**
 * What a node answers for `failure` of a request to `subject`: a call timeout of a request that may write, whose
 * outcome was not told, says it is unknown (the node's call to its session process ran out while the process may
 * still commit the write); anything else as it is.
 */
export function withTimeoutOutcome(failure: unknown, subjects: TetherSubjects, subject: string): unknown {
  if (!(failure instanceof CallTimeoutError) || failure.details.outcome !== undefined) return failure;
  // Only requests on the service's own subjects (a relayed execute, say, is no write of this node's).
  const known = subjects.parseRequest(subject) ?? subjects.parseModuleRequest(subject);
  if (known === undefined || requestKind(subjects, subject) !== 'write') return failure;
  return new CallTimeoutError(failure.target, failure.timeoutMs, {
    cause: failure,
    details: { ...failure.details, outcome: 'unknown' },
  });
}

/**
 * The error of a request to `subject` whose node `nodeId` said it was still at it and then stopped answering
 * pings (see watched-request.ts): whether it was applied is unknown, unless it was a read.
 */
export function nodeLostWhileWaiting(subjects: TetherSubjects, subject: string, nodeId: string): NodeLostError {
  const sessionId = (subjects.parseRequest(subject) ?? subjects.parseModuleRequest(subject))?.sessionId ?? '';
  const read = requestKind(subjects, subject) === 'read';
  return new NodeLostError(sessionId, undefined, undefined, nodeId, {
    details: { subject, ...(read ? { read: true } : { outcome: 'unknown' }) },
  });
}

/** Whether `error` is this client's finding that no node subscribes (not a node's `noproc` reply). */
export function isNoResponders(error: unknown): boolean {
  return (
    error instanceof NoProcError && (error.cause as Partial<NatsError> | undefined)?.code === ErrorCode.NoResponders
  );
}

/**
 * The error of a request to `subject` made once the connection had closed (NATS gave up reconnecting, or the
 * connection was closed under the handle): nothing was sent, so a write was not applied.
 */
export function closedBeforeSending(
  connection: NatsConnection,
  subjects: TetherSubjects,
  subject: string,
): NatsConnectionError {
  const kind = requestKind(subjects, subject);
  return new NatsConnectionError('closed', connection.getServer(), `request to '${subject}' not sent`, {
    details: { subject, ...(kind === 'read' ? {} : { outcome: 'not_applied' }) },
  });
}

/**
 * Maps what nats.js rejected a request to `subject` with; `link` and `start` tell whether this client's connection
 * dropped during the wait.
 */
export function requestFailure(
  error: unknown,
  connection: NatsConnection,
  subjects: TetherSubjects,
  subject: string,
  timeoutMs: number,
  link: ConnectionLink,
  start: WaitStart,
): Error {
  const code = (error as Partial<NatsError> | undefined)?.code;
  // No node subscribes: nobody could take the request, so report it at once as a dead target.
  if (code === ErrorCode.NoResponders) return new NoProcError(subject, { cause: error, unserved: true });
  // Closed under the request (`client.close()`, or NATS given up on): nats.js rejects it as a TIMEOUT, or
  // CONNECTION_CLOSED, but nothing timed out and the request's fate is unknown.
  if (connection.isClosed() || code === ErrorCode.ConnectionClosed) {
    const kind = requestKind(subjects, subject);
    return new NatsConnectionError('closed', connection.getServer(), `request to '${subject}' got no reply`, {
      cause: error,
      details: { subject, ...(kind === 'read' ? {} : { outcome: 'unknown' }) },
    });
  }
  if (code === ErrorCode.Timeout)
    return droppedDuring(link, start)
      ? droppedWhileWaiting(connection, subjects, subject, timeoutMs, link.down, error)
      : clientTimeout(subjects, subject, timeoutMs, error);
  const refusal = refusalOf(error);
  if (refusal) {
    // A refused publish never reached a node; a refused reply inbox may have let the request through unanswered.
    const kind = requestKind(subjects, subject);
    const outcome = kind === 'read' ? {} : { outcome: refusal.operation === 'publish' ? 'not_applied' : 'unknown' };
    const what =
      refusal.operation === 'publish'
        ? `request to '${subject}' not sent`
        : `request to '${subject}' can get no reply (its reply inbox is refused)`;
    return refusedError(connection.getServer(), what, error, { subject, ...outcome });
  }
  if (code === ErrorCode.MaxPayloadExceeded) {
    return new ValidationError(`request to '${subject}' exceeds the server's max_payload`, {
      cause: error,
      details: { constraint: 'maxPayload' },
    });
  }
  const message = messageOf(error);
  return new InternalError(`request to '${subject}' failed: ${message}`, {
    cause: error,
    details: { subject, natsCode: code ?? null },
  });
}
