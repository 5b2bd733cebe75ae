/**
 * Errors of NATS nodes and remote clients: a connection, a node lost or stopping, an execution unknown, a revision
 * unknown, output dropped or too large, a server defect, a bucket reset under a node.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/**
 * A request asked a node to wait for a bucket revision (the variables bucket's, or the modules bucket's) above the
 * bucket's last revision. Revisions only rise within one bucket, and every revision a client was shown is in it, so
 * that revision came from an earlier bucket of the same name: the bucket was deleted and created again, or the
 * server's JetStream storage was reset. No wait can bring it; `currentRevision` is where the bucket is now, and
 * `header` the request header that asked for it (`Tether-Min-Revision` or `Tether-Min-Modules-Revision`, in
 * `details.header`). The remote client takes it as its revision of that bucket and sends the request again, once
 * per header. Nothing was changed.
 */
export class RevisionUnknownError extends BridgeError {
  override readonly code = 'revision_unknown';
  /** The request header whose revision was refused (`details.header`); `Tether-Min-Revision` when not told. */
  readonly header: string;
  constructor(
    /** The bucket, e.g. `tether_vars`. */
    readonly bucket: string,
    /** The revision the request asked for (in its {@link header}). */
    readonly minRevision: number,
    /** The bucket's last revision when the node read it. */
    readonly currentRevision: number,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `revision ${minRevision} is above the last revision ${currentRevision} of bucket '${bucket}': the bucket ` +
        `was re-created or its JetStream storage reset since that revision was seen; carry on from revision ` +
        `${currentRevision}`,
      { ...options, details: { bucket, minRevision, currentRevision, ...options.details } },
    );
    const header = options.details?.['header'];
    this.header = typeof header === 'string' ? header : 'Tether-Min-Revision';
  }
}

/**
 * The NATS server a node connected to has a known defect that can leave the copies of a replicated bucket
 * different, which Tether cannot work around: told to the node's `onError` once at start, never thrown and never
 * sent on the wire. The node runs all the same; upgrade the servers to `fixedIn` or later.
 */
export class NatsServerDefectError extends BridgeError {
  override readonly code = 'nats_server_defect';
  constructor(
    /** The version the server reported (its `INFO`). */
    readonly serverVersion: string,
    /** The node's buckets that run more than one replica there. */
    readonly buckets: readonly string[],
    /** The first release with the fix. */
    readonly fixedIn: string,
    /** What goes wrong, and when. */
    defect: string,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `nats-server ${serverVersion} (before ${fixedIn}): ${defect}; replicated buckets here: ` +
        `${buckets.map((bucket) => `'${bucket}'`).join(', ')}. Upgrade the NATS servers to ${fixedIn} or later`,
      { ...options, details: { serverVersion, buckets: [...buckets], fixedIn, ...options.details } },
    );
  }
}

/**
 * A node found a bucket's last revision below the revision it had applied from it: the bucket was deleted and created
 * again, restored from an older copy (a backup of the server's storage dir), or the server's JetStream storage was
 * reset while the node ran. What the node loaded from the old bucket no longer matches the new one, and its watch
 * cannot tell which writes it lacks: told to the node's `onError` once, never thrown and never sent on the wire.
 * Restart the node to serve the bucket as it is now.
 */
export class BucketResetError extends BridgeError {
  override readonly code = 'bucket_reset';
  constructor(
    /** The bucket, e.g. `tether_vars`. */
    readonly bucket: string,
    /** The revision the node had applied when it found the bucket below it. */
    readonly appliedRevision: number,
    /** The bucket's last revision as the node read it then. */
    readonly lastRevision: number,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `bucket '${bucket}' is at revision ${lastRevision}, below revision ${appliedRevision} this node applied from ` +
        'it: the bucket was re-created, restored from an older copy or its JetStream storage reset; this node ' +
        'serves what it loaded before, so restart this node',
      { ...options, details: { bucket, appliedRevision, lastRevision, ...options.details } },
    );
  }
}

/**
 * Why a node's held output went undelivered (see {@link HeldOutputDroppedError}): `over_limit`, it fell due past the
 * bytes a node holds at most; `not_back`, it was still held when the node's stop gave up waiting for its connection;
 * `send_failed`, it failed as it was sent, once the connection was back or as it closed for good.
 */
export const HELD_OUTPUT_DROP_REASONS = ['over_limit', 'not_back', 'send_failed'] as const;

/** One of {@link HELD_OUTPUT_DROP_REASONS}. */
export type HeldOutputDropReason = (typeof HELD_OUTPUT_DROP_REASONS)[number];

/** The context of a {@link HeldOutputDroppedError}, as its reason has it. */
export interface HeldOutputDropContext {
  /** `over_limit`: the bytes a node holds at most. */
  readonly limit?: number;
  /** `not_back`: how long the stop waited for the connection from the first of them falling due, in ms. */
  readonly waitedMs?: number;
  /** `send_failed`: when they were sent, once the connection was back (`reconnected`) or as it closed for good. */
  readonly when?: 'reconnected' | 'closed';
}

/** What went undelivered: the replies, notices and events a node held while its connection was down. */
const HELD_OUTPUT = 'the replies, notices and events due while the connection was down';

/**
 * A node's replies, acceptance notices or events that it held while its own NATS connection was down went
 * undelivered: `count` of them, `bytes` in all, for `reason` (see {@link HeldOutputDropReason}; `details` add the
 * `limit`, the `waitedMs` or `when`, and a send that failed keeps its first failure as `cause`). Their callers wait for
 * their timeouts (or ask for a kept reply), their subscribers miss them. Told to the node's `onError`; never sent on
 * the wire.
 * @example
 * onError: (e) => { if (e instanceof HeldOutputDroppedError) console.log(e.count, e.reason) } // 3 'not_back'
 */
export class HeldOutputDroppedError extends BridgeError {
  override readonly code = 'held_output_dropped';
  constructor(
    readonly count: number,
    readonly reason: HeldOutputDropReason,
    /** Their payloads' size in all, in bytes. */
    readonly bytes: number,
    context: HeldOutputDropContext = {},
    options: BridgeErrorOptions = {},
  ) {
    const { limit, waitedMs, when } = context;
    const sentWhen = when === 'closed' ? 'when it closed for good' : 'once it was back';
    const what = {
      over_limit: `dropped ${count} of ${HELD_OUTPUT}: over the ${limit} bytes held at most`,
      not_back:
        `dropped ${count} of ${HELD_OUTPUT}: its connection was not back within ${waitedMs} ms of the first ` +
        'falling due, and the node stopped',
      send_failed: `${count} of ${HELD_OUTPUT} could not be sent ${sentWhen}`,
    }[reason];
    super(what, { ...options, details: { count, reason, bytes, ...context, ...options.details } });
  }
}

/**
 * The node that took a remote execution stopped answering while its caller waited for the reply: its process was
 * killed, or its machine or network went away (or this client's own connection stopped carrying anything without
 * dropping, which looks the same from here: a connection that drops is told apart, see `NatsConnectionError`).
 * Raised by the remote client, like Elixir's `:noconnection`, a few seconds after the node's last answer instead
 * of at the end of the execution's timeout. The execution's outcome is unknown: it may or may not have run, its
 * LLM call included, so retry only what is safe to run twice.
 *
 * Any other request is watched the same way once its node said it is still at it (a write riding through a
 * leader election, see `Tether-Answer-Within`): then `moduleId` and `executionId` are `undefined`,
 * `details.subject` names the request, and `details.outcome` is `unknown`, unless it was a read (`details.read`).
 */
export class NodeLostError extends BridgeError {
  override readonly code = 'node_lost';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string | undefined,
    readonly executionId: string | undefined,
    /** The node's instance id of the `tether` micro service (it answered on `$SRV.PING.tether.<nodeId>`). */
    readonly nodeId: string,
    options: BridgeErrorOptions = {},
  ) {
    const subject = options.details?.subject;
    const request = typeof subject === 'string' ? `request '${subject}'` : 'a request';
    // Only a request known to be a read is said to have changed nothing.
    const fate = options.details?.read === true ? 'a read, it changed nothing' : 'whether it was applied is unknown';
    super(
      executionId === undefined
        ? `node '${nodeId}' that took ${request}${sessionId === '' ? '' : ` of session '${sessionId}'`} stopped ` +
            `answering; ${fate}`
        : `node '${nodeId}' running execution '${executionId}' of module '${moduleId}' in session '${sessionId}' ` +
            "stopped answering; the execution's outcome is unknown: it may or may not have run, its LLM call included",
      {
        ...options,
        details: {
          // '' for a request that names no session (`sessions.list`).
          ...(sessionId === '' ? {} : { sessionId }),
          ...(moduleId === undefined ? {} : { moduleId }),
          ...(executionId === undefined ? {} : { executionId }),
          nodeId,
          ...options.details,
        },
      },
    );
  }
}

/**
 * This client's NATS connection dropped while it waited for a remote execution's reply, and once it was back the
 * node that had taken the execution (`nodeId`) said it has no record of it: it keeps the replies of finished
 * executions for a while only (the last few thousand, for two minutes by default), so the reply sent while this
 * client was away is gone for good. Or no node ever acknowledged the execution and none of the live nodes has a
 * record of it (`nodeId` undefined, the nodes asked in `details.nodes`): its request was lost on its way (in a NATS
 * server's buffers as it restarted), or the node that took it died before it answered, or stalled (a frozen VM, a
 * long GC pause: once resumed, it refuses the execution rather than run it). Raised by the remote client
 * within seconds, rather than at the end of the execution's timeout. The execution's outcome is unknown: it may or
 * may not have run, its LLM call included, so retry only what is safe to run twice.
 */
export class ExecutionUnknownError extends BridgeError {
  override readonly code = 'execution_unknown';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string,
    readonly executionId: string,
    /** The node's instance id of the `tether` micro service, which took the execution; none when none did. */
    readonly nodeId: string | undefined,
    options: BridgeErrorOptions = {},
  ) {
    const what = `execution '${executionId}' of module '${moduleId}' in session '${sessionId}'`;
    super(
      (nodeId === undefined
        ? `no node acknowledged ${what}, and no live node has a record of it (its request was lost, or the node ` +
          'that took it died or stalled; one that stalled does not run it once resumed)'
        : `node '${nodeId}' has no record of ${what}, whose reply this client's NATS connection lost`) +
        "; the execution's outcome is unknown: it may or may not have run, its LLM call included",
      {
        ...options,
        details: { sessionId, moduleId, executionId, ...(nodeId === undefined ? {} : { nodeId }), ...options.details },
      },
    );
  }
}

/**
 * The node that took a request stopped before it answered: its stop let the requests in flight finish for a while
 * (`tether serve --drain-timeout`) and this one had not, so the node ended it (see `Runtime.endRequests`). An
 * execution was aborted there, its LLM call dropped (a call already made may still be billed); a read changed nothing
 * (`details.read`); any other request may or may not have been applied (`details.outcome` `unknown`). The message says
 * which of the three the request was. Another node takes the request if it is sent again. `details.reason` says why
 * the node ended it.
 */
export class NodeStoppingError extends BridgeError {
  override readonly code = 'node_stopping';
  constructor(
    /** The node's instance id of the `tether` micro service. */
    readonly nodeId: string,
    /** The subject the request came on. */
    readonly subject: string,
    options: BridgeErrorOptions = {},
  ) {
    const reason = options.details?.reason;
    const why = typeof reason === 'string' && reason !== '' ? ` (${reason})` : '';
    const outcome =
      options.details?.read === true
        ? ', which changed nothing'
        : subject.endsWith('.execute')
          ? ': its execution was aborted'
          : ': it may or may not have been applied';
    super(`node '${nodeId}' stopped before answering request '${subject}'${why}; it ended the request${outcome}`, {
      ...options,
      details: { nodeId, subject, ...options.details },
    });
  }
}

/**
 * A reply or an event is larger than the NATS server's `max_payload`, so it cannot be sent as one message. The
 * operation itself ran (a read changed nothing; an execution's result is lost); `what` names what was too
 * large and the message says how to ask for less.
 */
export class PayloadTooLargeError extends BridgeError {
  override readonly code = 'payload_too_large';
  constructor(
    /** What could not be sent, e.g. `reply to var.list of session 's1'`. */
    readonly what: string,
    readonly size: number,
    readonly limit: number,
    /** How to ask for less, e.g. `ask for fewer sessions at a time with a smaller limit`. */
    hint?: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`${what} is ${size} bytes, over the NATS max_payload of ${limit} bytes${hint ? `; ${hint}` : ''}`, {
      ...options,
      details: { what, size, limit, ...options.details },
    });
  }
}

/**
 * What happened to a NATS connection: `unreachable` (it could not be made), `disconnected` (retrying; or, thrown by
 * a remote request, dropped while it waited, which got no reply), `reconnected`, `closed` (given up, or closed
 * while a request waited), or `refused` (the server's permissions for the connection's user refused a publish or a
 * subscription; `details.subject` names it).
 */
export type NatsConnectionStatus = 'unreachable' | 'disconnected' | 'reconnected' | 'closed' | 'refused';

/**
 * A node's or client's NATS connection could not be made, dropped, came back or closed: thrown by
 * `Runtime.start({ nats })` and `connect()` when no server answers, by a request whose connection closed under
 * it, and by a remote request (`execute` or any other) whose connection dropped while it waited and that got no
 * reply by its timeout (`disconnected`: a reply sent while it was down is lost, and so is a request sent then;
 * `details.outcome` is `unknown` for all but reads, which may or may not have been applied); told to `onError`
 * otherwise. On the wire only from a node that passed an `execute` or `describe` on to the node its module stays on
 * and lost that reply to its own connection's drop (see module-forward.ts), or whose NATS permissions refused a
 * JetStream subject its store needs (`refused`). `reconnected` ends an outage rather than being a
 * failure, and comes the same way so one handler sees both. An `unreachable` one tells in `details.tls` what TLS
 * showed: `not_offered` (with `requiredBy`), `alert` (the server's TLS alert in `details.alert`), `reset` (the
 * connection reset once encrypted, its alert if any lost: `details.reset`, `ECONNRESET` or `EPIPE`) or `no_answer`
 * (none once encrypted), with `details.clientCertificate` (`required`, `likely_required`) when no client certificate
 * was given and that is why.
 */
export class NatsConnectionError extends BridgeError {
  override readonly code = 'nats_connection';
  constructor(
    readonly status: NatsConnectionStatus,
    readonly server: string,
    /** What follows, e.g. `reconnecting every 2000 ms`. */
    note?: string,
    options: BridgeErrorOptions = {},
  ) {
    const what = {
      unreachable: 'cannot connect to NATS',
      disconnected: 'connection lost',
      reconnected: 'reconnected',
      closed: 'connection closed',
      refused: 'refused by NATS permissions',
    }[status];
    super(`${what} (${server})${note ? `; ${note}` : ''}`, {
      ...options,
      details: { status, server, ...options.details },
    });
  }
}
