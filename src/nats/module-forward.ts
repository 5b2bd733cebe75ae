/**
 * Requests for a module that lives on one node only. A module whose spec holds functions (tools given as
 * functions) cannot be written to the modules bucket, so no other node can wake it: it stays on the node that
 * created it (the bucket holds that node's claim of the id, see module-claims.ts). That node subscribes, in the
 * service's queue group, to the module's own `<prefix>.v1.forward.<sid>.module.<mid>.<op>` for as long as the
 * module lives there (hibernating included: a request passed on wakes it), and serves there the `execute` and
 * `describe` that reached another node, with everything the service gives its own requests: the read-your-writes
 * waits (the client's revision headers travel along, and the life it is bound to), acceptance notices, replies carrying its revisions, draining
 * on stop. The node a request reached passes it on there and relays the answer unchanged.
 *
 * A subject per module rather than the control subjects every node hears: the request goes to that one node (a
 * passed-on execution must run once), other nodes never see its inputs, and when no node has the module the
 * server says so at once (no responders), so `module_not_found` costs one round trip rather than a wait. Unless
 * the module's claim still names a node: that node's connection may be coming back (a blip, a move to another
 * server of the cluster), so an execution is sent again for up to `NODE_RECONNECT_GRACE_MS` first (6 s more for
 * the module of a node that died without giving its claim back).
 *
 * The caller watches the node its request reached (its acceptance notice), and that node watches the one that has
 * the module (the same watched request, see watched-request.ts): a lost owner is answered with `NodeLostError`
 * naming it within seconds, and a lost relaying node is noticed by the caller itself. The execution keeps the
 * caller's id, so a `cancel` sent to any node finds it through the control subjects.
 *
 * The relaying node's own connection may drop while the owner runs the execution: the owner's reply, published to
 * it meanwhile, is lost. The owner keeps it as it keeps the replies of the executions it was asked for directly
 * (execution-replies.ts), and the relaying node, once its connection is back, asks the owner for it as a remote
 * client asks (lost-reply-recovery.ts), then relays it as if it had just come. The owner is the node whose
 * acceptance notice came or, when the outage lost that notice too, the node the module's claim names. An owner with
 * no record of it is answered with `ExecutionUnknownError`, and silence until the wait's end with
 * `NatsConnectionError` (`disconnected`): either way the execution's outcome is unknown, not that the module is not
 * found.
 * @module
 */
import { ErrorCode, headers as natsHeaders, type MsgHdrs, type NatsConnection, type NatsError } from 'nats';
import {
  CallTimeoutError,
  ExecutionAbortedError,
  ExecutionUnknownError,
  InternalError,
  ModuleNotFoundError,
  NatsConnectionError,
  NodeLostError,
  ValidationError,
} from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { STEADY_LINK, type ConnectionLink } from './connection-link.js';
import { NodeDidNotAnswer, askExecutionOutcome, type AskOutcome } from './lost-reply-recovery.js';
import { NO_RESPONDERS_RETRY_MS } from './no-responders-ride.js';
import { NODE_RECONNECT_GRACE_MS } from './node-watch.js';
import { ReplyInbox } from './reply-inbox.js';
import { RelayedReply } from './service-endpoint.js';
import { MODULE_READS, type ForwardedOperation } from './operations.js';
import type { TetherSubjects } from './subjects.js';
import { watchedRequest, type WatchedOutcome } from './watched-request.js';
import {
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  INCARNATION_HEADER,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  encodeJson,
} from './wire.js';
import { messageOf } from '../printable.js';

/**
 * How much longer than the execution's own timeout the relaying node waits: the owner's `call_timeout` comes back
 * first, and the relayed answer still reaches the caller within the grace its client allows (2 s).
 */
export const FORWARD_GRACE_MS = 1_000;

/**
 * How long a passed-on `describe` may take: a describe answers at once, after the owner's read-your-writes wait
 * (at most 2 s); below the remote client's default request timeout (5 s), so its caller gets this node's answer.
 */
export const FORWARDED_DESCRIBE_WAIT_MS = 4_000;

/**
 * The body of a passed-on execution: the timeout is always given, the relaying node's default if the caller gave
 * none.
 */
export interface ForwardedExecution {
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly executionId: string;
  readonly timeoutMs: number;
}

/** The relaying side: passes a request on to the node that has the module and resolves to that node's answer. */
export interface ModuleForward {
  /**
   * Passes an execution on; `headers` are the caller's request headers (its revisions are passed along), and
   * `cancelled` says whether a cancel of it came (asked before each send).
   * @throws {ExecutionAbortedError} (`details.outcome: "not_applied"`) when `cancelled` says so before it was sent,
   * or before it is sent again to an owner whose connection may be coming back
   * @throws {ModuleNotFoundError} when no node has the module
   * @throws {NodeLostError} when the node running it stops answering
   * @throws {ExecutionUnknownError} when this node's connection dropped while it waited and the node running it,
   * asked once it was back, has no record of it
   * @throws {NatsConnectionError} (`disconnected`) when no answer came within the execution's timeout and
   * {@link FORWARD_GRACE_MS} and this node's connection dropped while it waited
   * @throws {CallTimeoutError} when no answer came within the execution's timeout and {@link FORWARD_GRACE_MS}
   * @throws {ValidationError} when the request is over the server's `max_payload`, or its inputs are nested too deep
   * to be written again (`details.constraint: "depth"`) and a node answers for the module
   * @throws {InternalError} when NATS refused it otherwise (the connection closed, say), naming the module
   */
  execute(
    sessionId: string,
    moduleId: string,
    body: ForwardedExecution,
    headers: MsgHdrs | undefined,
    cancelled?: () => boolean,
  ): Promise<RelayedReply>;
  /**
   * Passes a describe on.
   * @throws {ModuleNotFoundError} when no node has the module, or the one that had it stopped answering
   * @throws {CallTimeoutError} after {@link FORWARDED_DESCRIBE_WAIT_MS}
   */
  describe(sessionId: string, moduleId: string, headers: MsgHdrs | undefined): Promise<RelayedReply>;
  /**
   * Whether a node answers for the module on its forward subjects, asked with a `describe` (which wakes nothing):
   * `false` when none subscribes (no responders), the one that took the question was lost while it answered, or
   * it answered `module_not_found` (its module ended, and it is letting the subject go). Any other answer, a
   * timeout included, is `true`: a node that may still have the module keeps it.
   * @throws {InternalError} when NATS refused the question (the connection closed, say), naming the module
   */
  answers(sessionId: string, moduleId: string): Promise<boolean>;
}

/**
 * What a passed-on request's end other than a reply becomes: `lost`, the node running it stopped answering; with
 * `execution`, a reply lost while this node's connection was down is asked of that node (see the module comment).
 */
interface PassFailures {
  readonly lost: (nodeId: string) => Error;
  readonly execution?: {
    readonly ask: AskOutcome;
    readonly unknown: (nodeId: string) => Error;
    /** The error of an execution cancelled before it was sent (again); `undefined` while it is not. */
    readonly cancelled: () => Error | undefined;
  };
}

/**
 * The node a module that stays on its node lives on, as the module's claim in the modules bucket names it;
 * `undefined` when its key holds no claim.
 */
export type ModuleOwnerOf = (sessionId: string, moduleId: string) => Promise<string | undefined>;

/**
 * The relaying side of a node, on its connection; `link` follows that connection, so that the wait for a passed-on
 * execution knows when its reply may have been lost (and a ping missed while it was down does not count). Without
 * it, nothing is asked again and every missed ping counts. `ownerOf` finds the owner to ask when its acceptance
 * notice never came; without it, such a reply is not asked for.
 */
export function createModuleForward(
  connection: NatsConnection,
  subjects: TetherSubjects,
  link: ConnectionLink = STEADY_LINK,
  ownerOf?: ModuleOwnerOf,
): ModuleForward {
  const inbox = new ReplyInbox(connection);

  const pass = async (
    sessionId: string,
    moduleId: string,
    operation: ForwardedOperation,
    body: object,
    caller: MsgHdrs | undefined,
    waitMs: number,
    failures: PassFailures,
  ): Promise<RelayedReply> => {
    const subject = subjects.moduleForward(sessionId, moduleId, operation);
    // The caller's revisions and the life it is bound to: the owner waits for what the caller has seen, and checks the
    // session's life, as this node did (the life may have ended in between).
    const h = natsHeaders();
    for (const name of [MIN_REVISION_HEADER, MIN_MODULES_REVISION_HEADER, INCARNATION_HEADER]) {
      const value = caller?.get(name);
      if (value) h.set(name, value);
    }
    const { execution } = failures;
    const what = `passing ${operation} of module '${moduleId}' in session '${sessionId}' on to its node`;
    const payload = encodeOrNone(body);
    if (payload === undefined) {
      // Inputs JSON.parse took but JSON.stringify overflows the stack writing again (some thousands of levels): a
      // client's payload, never an internal error. Asked only then, so a request that can be passed on pays nothing.
      if (!(await forward.answers(sessionId, moduleId))) throw new ModuleNotFoundError(sessionId, moduleId);
      throw new ValidationError(`${what}: its inputs are nested too deeply to be passed on`, {
        details: { sessionId, moduleId, subject, constraint: 'depth' },
      });
    }
    const sentAt = performance.now();
    /**
     * Nothing subscribes, yet the claim names the owner: its connection may be coming back (the server forgot its
     * subscriptions meanwhile). An execution is sent again for a while, as a client rides out no responders (safe: no
     * node got it); a describe is not, as `answers` must hear "nobody" at once for a takeover. The claim is read again
     * at each retry: a node stopping unsubscribes before it gives its modules up, and once it has, nobody is coming.
     */
    const ownerMayBeBack = async (error: unknown): Promise<boolean> =>
      execution !== undefined &&
      (error as Partial<NatsError> | undefined)?.code === ErrorCode.NoResponders &&
      performance.now() - sentAt + NO_RESPONDERS_RETRY_MS < Math.min(NODE_RECONNECT_GRACE_MS, waitMs) &&
      (await Promise.resolve(ownerOf?.(sessionId, moduleId)).then(
        (owner) => owner !== undefined,
        () => false,
      ));
    const send = async (): Promise<WatchedOutcome> => {
      for (;;) {
        // A cancel that no node had the execution for yet, this one included (it is only passing it on), is
        // remembered by this node's control: it wins here as right before a mailbox. The owner, its connection coming
        // back, may have missed it, and would run what its caller was told is cancelled.
        const cancelled = execution?.cancelled();
        if (cancelled) throw cancelled;
        try {
          // Only executions run long enough for a drop to matter, and only they have a kept reply to ask for.
          return await watchedRequest(connection, inbox, subject, payload, {
            headers: h,
            timeoutMs: Math.max(1, Math.round(waitMs - (performance.now() - sentAt))),
            ...(execution ? { link, askOutcome: execution.ask } : {}),
          });
        } catch (error) {
          if (!(await ownerMayBeBack(error))) throw error;
          await new Promise((resolve) => setTimeout(resolve, NO_RESPONDERS_RETRY_MS));
        }
      }
    };
    let outcome;
    try {
      outcome = await send();
    } catch (error) {
      if (error instanceof ExecutionAbortedError) throw error;
      const code = (error as Partial<NatsError> | undefined)?.code;
      // Nothing subscribes: no node has the module (never created, stopped, or its node is gone).
      if (code === ErrorCode.NoResponders) throw new ModuleNotFoundError(sessionId, moduleId, { cause: error });
      // The owner may still be at it: what a relayed operation that may write did is unknown.
      if (code === ErrorCode.Timeout) {
        const details = MODULE_READS.has(operation) ? {} : { outcome: 'unknown' };
        throw new CallTimeoutError(subject, waitMs, { cause: error, details });
      }
      const details = { sessionId, moduleId, subject, natsCode: code ?? null };
      // A body the server carried, grown by the fields this node adds (an executionId, a timeoutMs): never sent, so
      // told as a client's own oversized request is, with its constraint, and for an execution that it did not run.
      if (code === ErrorCode.MaxPayloadExceeded)
        throw new ValidationError(`${what}: the request exceeds the server's max_payload`, {
          cause: error,
          details: { ...details, constraint: 'maxPayload', ...(execution ? { outcome: 'not_applied' } : {}) },
        });
      const message = messageOf(error);
      throw new InternalError(`${what} failed: ${message}`, { cause: error, details });
    }
    if (outcome.kind === 'lost') throw failures.lost(outcome.nodeId);
    // Asked only with `execution`.
    if (outcome.kind === 'unknown') throw execution!.unknown(outcome.nodeId);
    if (outcome.kind === 'unanswered') {
      const why = outcome.down ? 'and is still down' : 'and the answer sent meanwhile is lost';
      throw new NatsConnectionError(
        'disconnected',
        connection.getServer(),
        `${what}: no answer within ${waitMs} ms; this node's NATS connection dropped while it waited ${why}; ` +
          `whether it ran is unknown`,
        { details: { sessionId, moduleId, subject, timeoutMs: waitMs, outcome: 'unknown' } },
      );
    }
    if (outcome.kind === 'unsent') {
      const closed = connection.isClosed();
      throw new NatsConnectionError(
        closed ? 'closed' : 'disconnected',
        connection.getServer(),
        `${what}: not sent; this node's NATS connection ` +
          (closed ? 'closed before it was back' : `was down from then until the wait's end (${waitMs} ms)`) +
          (operation === 'execute' ? '; it did not run' : ''),
        {
          details: {
            sessionId,
            moduleId,
            subject,
            timeoutMs: waitMs,
            ...(execution ? { outcome: 'not_applied' } : {}),
          },
        },
      );
    }
    // Not `aborted`: no signal was given.
    if (outcome.kind !== 'reply') throw new ModuleNotFoundError(sessionId, moduleId);
    const { reply } = outcome;
    const status = reply.headers?.get(ERROR_CODE_HEADER);
    if (!status) return new RelayedReply(reply.data);
    return new RelayedReply(reply.data, {
      status: Number(status) || 500,
      description: reply.headers?.get(ERROR_HEADER) ?? '',
    });
  };

  const forward: ModuleForward = {
    execute(sessionId, moduleId, body, caller, cancelled) {
      const waitMs = Math.min(body.timeoutMs + FORWARD_GRACE_MS, MAX_TIMEOUT_MS);
      const { executionId } = body;
      return pass(sessionId, moduleId, 'execute', body, caller, waitMs, {
        lost: (nodeId) => new NodeLostError(sessionId, moduleId, executionId, nodeId),
        execution: {
          // Every node is never asked: this node holds the execution too (it relays it), so it would answer itself.
          // When the owner's notice never came (lost in the outage that lost the reply), the module's claim names
          // it. Without a claim, `unknown` naming no node ends the asking at once, and the wait goes on to its end.
          ask: async (nodeId) => {
            const owner = nodeId ?? (await ownerOf?.(sessionId, moduleId));
            if (owner === undefined) return { kind: 'unknown' };
            const subject = subjects.executionOutcome(owner, sessionId, moduleId);
            if (nodeId !== undefined) return askExecutionOutcome(connection, subject, executionId);
            try {
              return await askExecutionOutcome(connection, subject, executionId);
            } catch (error) {
              throw new NodeDidNotAnswer(owner, { cause: error });
            }
          },
          unknown: (nodeId) => new ExecutionUnknownError(sessionId, moduleId, executionId, nodeId),
          cancelled: () =>
            cancelled?.()
              ? new ExecutionAbortedError(moduleId, executionId, {
                  details: { reason: 'cancelled before it started', outcome: 'not_applied' },
                })
              : undefined,
        },
      });
    },
    describe(sessionId, moduleId, caller) {
      // A module whose node is gone is gone: its spec was nowhere else.
      return pass(sessionId, moduleId, 'describe', {}, caller, FORWARDED_DESCRIBE_WAIT_MS, {
        lost: (nodeId) => new ModuleNotFoundError(sessionId, moduleId, { details: { lostNodeId: nodeId } }),
      });
    },
    async answers(sessionId, moduleId) {
      let reply: RelayedReply;
      try {
        reply = await forward.describe(sessionId, moduleId, undefined);
      } catch (error) {
        if (error instanceof ModuleNotFoundError) return false;
        if (error instanceof CallTimeoutError) return true;
        throw error;
      }
      if (reply.error === undefined) return true;
      try {
        return (JSON.parse(decoder.decode(reply.data)) as ErrorBody).error?.code !== 'module_not_found';
      } catch {
        return true;
      }
    },
  };
  return forward;
}

/** `body`'s JSON bytes; `undefined` when it nests deeper than `JSON.stringify` can write (a `RangeError`). */
function encodeOrNone(body: object): Uint8Array | undefined {
  try {
    return encodeJson(body);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The body of an error reply, as far as {@link ModuleForward.answers} reads it. */
interface ErrorBody {
  readonly error?: { readonly code?: unknown };
}

const decoder = new TextDecoder();
