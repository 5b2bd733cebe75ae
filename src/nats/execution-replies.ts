/**
 * The replies of a node's recent executions, kept for a while so that a caller who lost one can ask for it again.
 * Core NATS drops a message whose subscriber is disconnected: a remote `execute` that finished while its client's
 * connection was down would otherwise wait out its timeout (120 s by default) and fail, though it ran. The client
 * knows the node that took it (its acceptance notice), so once its connection is back it asks that node, on
 * `<prefix>.v1.node.<nodeId>.<sid>.module.<mid>.outcome` with the body `{ executionId }` (no queue group: only
 * that node subscribes). The answer's {@link EXECUTION_OUTCOME_HEADER} says what became of it:
 * - `finished`: the rest of the message is the execution's reply exactly as it was sent (its body and, for an error,
 *   the `Nats-Service-Error` headers), to be read as that reply;
 * - `running`: this node has it in hand and its reply is still to come (body `{ "outcome": "running" }`);
 * - `unknown`: this node has no record of it (body `{ "outcome": "unknown" }`): it never took it, or finished
 *   longer ago than replies are kept.
 * A malformed question gets a `validation_failed` error reply, without the header. Every other answer names the node
 * in `Tether-Accepted-By`.
 *
 * A client that lost its reply before it learnt the node (its acceptance notice was lost with it, or the execution
 * finished in the turn that took it, which sends none) asks every node at once, on the same subject with the node
 * token `all` ({@link ALL_NODES}). There only a node that has the execution answers (`finished` or `running`, the
 * latter naming the node for the client to watch from then on); the others stay silent, so the question simply
 * times out when no node has it. A node running an execution another node passed on to it stays silent too while it
 * runs: the relaying node answers `running`, and is the one the client is to watch (it relays the reply).
 *
 * What is kept: the reply to every request on the `execute` subject that named its `executionId` (the remote client
 * always does), keyed by session, module and that id, so only a question naming all three gets it. The id is the
 * client's random UUID, which another client cannot guess. An execution passed on to the node that has its module
 * (module-forward.ts) is kept by the node the client reached, which relayed the reply: that is the node the client
 * knows. The node that ran it keeps it too, under the same key: the relaying node asks it in turn when its own
 * connection dropped while it waited. Kept in memory only: a node that restarts is another service instance, which
 * no client asks.
 * @module
 */
import { headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import { ValidationError } from '../errors.js';
import { assertModuleId } from '../modules/module-spec.js';
import { assertSessionId } from '../variables/names.js';
import { assertExecutionId } from './request-fields.js';
import { asServiceRequest } from './service-endpoint.js';
import { requestHeaders } from './request-headers.js';
import { ALL_NODES, type TetherSubjects } from './subjects.js';
import {
  ACCEPTED_BY_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  assertFields,
  decodeRequest,
  encodeError,
  encodeJson,
  requireString,
} from './wire.js';
import { printable } from '../printable.js';
import { SEARCH_DEADLINE_HEADER, searchDeadlineIn } from './search-deadline.js';
import type { SearchedExecutions } from './searched-executions.js';
import { subscribeNeeded } from './needed-subscription.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';

/** The header of an answer to an outcome question: `finished`, `running` or `unknown` (see the module comment). */
export const EXECUTION_OUTCOME_HEADER = 'Tether-Execution-Outcome';

/** How many finished executions' replies a node keeps, and for how long; the oldest go first. */
export interface ExecutionReplyLimits {
  /**
   * Replies kept at most: a few thousand cover the executions that finish during a reconnect on a busy node.
   * 0 keeps none (a client that lost a reply is then told `execution_unknown` at once).
   * @default 4096
   */
  readonly maxCount?: number;
  /**
   * How long a reply is kept. A client retries its connection every 2 s by default, so one that can still use a
   * reply is back well within this; one away longer is told `execution_unknown` rather than given a stale result.
   * @default 120_000
   */
  readonly maxAgeMs?: number;
  /** Bytes of replies kept at most: a reply may be as large as `max_payload` (1 MiB), and 4096 of those would be 4 GiB. @default 32 MiB */
  readonly maxBytes?: number;
}

/** The limits a node keeps replies within unless told otherwise. */
export const DEFAULT_EXECUTION_REPLY_LIMITS: Required<ExecutionReplyLimits> = {
  maxCount: 4096,
  maxAgeMs: 120_000,
  maxBytes: 32 * 1024 * 1024,
};

/** A micro error reply's status and description (its headers), as sent. */
export interface ReplyError {
  readonly status: number;
  readonly description: string;
}

/** One finished execution's reply as it was sent. */
export interface KeptReply {
  readonly data: Uint8Array;
  readonly error: ReplyError | undefined;
}

/** The executions of one node: those in hand, and the replies of those finished lately. */
export interface ExecutionReplies {
  /**
   * This node took `request` (the execution `key`, see {@link executionReplyKey}); its reply is to be kept. A reply
   * kept under `key` is dropped: this request's is the one its caller waits for. `relayed`: another node passed it
   * on here, and relays it to its caller.
   */
  started(request: object, key: string, relayed?: boolean): void;
  /** The reply to `request` is being sent (a request never {@link started} is no concern of this). */
  replied(request: object, data: Uint8Array, error?: ReplyError): void;
  /**
   * The reply to `request` went out as another one (an error reply, when sending it failed after it was held through
   * an outage): what is kept for it becomes that one, unless a later start of its key runs or replaced it. Meant for
   * right after the hold, when nothing else of the key can have come: a later start whose reply was too large to keep
   * leaves no trace to tell it by.
   */
  amend(request: object, data: Uint8Array, error?: ReplyError): void;
  /**
   * What became of the execution `key`. `everyNode`: asked of every node, where an execution only relayed here
   * that still runs is `unknown`: the node that relays it answers `running`, and is the one its caller is to watch
   * (this node's answer might come first).
   */
  outcome(key: string, everyNode?: boolean): KeptReply | 'running' | 'unknown';
  /** Lets every kept reply go, and stops sweeping them: the node stopped, and nobody can ask for them any more. */
  clear(): void;
}

/** The key of one execution: its tokens hold no dots, so session and module are read unambiguously from the left. */
export function executionReplyKey(sessionId: string, moduleId: string, executionId: string): string {
  return `${sessionId}.${moduleId}.${executionId}`;
}

/**
 * `limits` with the defaults filled in.
 * @throws {ValidationError} for a limit that is not a whole number from 0, or a key that is not a limit
 */
export function executionReplyLimits(limits: ExecutionReplyLimits = {}): Required<ExecutionReplyLimits> {
  for (const [name, value] of Object.entries(limits)) {
    if (!Object.hasOwn(DEFAULT_EXECUTION_REPLY_LIMITS, name))
      throw new ValidationError(`unknown option executionReplies.${name}: use maxCount, maxAgeMs or maxBytes`);
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      throw new ValidationError(`executionReplies.${name} must be a whole number from 0, got ${printable(value)}`);
  }
  return {
    maxCount: limits.maxCount ?? DEFAULT_EXECUTION_REPLY_LIMITS.maxCount,
    maxAgeMs: limits.maxAgeMs ?? DEFAULT_EXECUTION_REPLY_LIMITS.maxAgeMs,
    maxBytes: limits.maxBytes ?? DEFAULT_EXECUTION_REPLY_LIMITS.maxBytes,
  };
}

/** Keeps replies within `limits` (each one defaulting to {@link DEFAULT_EXECUTION_REPLY_LIMITS}). */
export function createExecutionReplies(limits: ExecutionReplyLimits = {}): ExecutionReplies {
  const { maxCount, maxAgeMs, maxBytes } = executionReplyLimits(limits);
  const inHand = new Map<object, string>();
  /** How many requests in hand carry each key: a careless client may send one id twice. */
  const running = new Map<string, number>();
  /** How many of those were passed on here by another node (see `started`). */
  const relayedRunning = new Map<string, number>();
  const count = (counts: Map<string, number>, key: string, by: 1 | -1): void => {
    const next = (counts.get(key) ?? 0) + by;
    if (next > 0) counts.set(key, next);
    else counts.delete(key);
  };
  /** Requests in hand passed on here. */
  const relayedRequests = new WeakSet<object>();
  /** In the order they finished, which is also their age order: the oldest go first. */
  const kept = new Map<string, KeptReply & { readonly at: number }>();
  let bytes = 0;
  /** Each request replied to, its key and what was kept of its reply, if anything (see `amend`). */
  const keptFor = new WeakMap<object, { readonly key: string; readonly reply: KeptReply | undefined }>();

  const keep = (request: object, key: string, data: Uint8Array, error: ReplyError | undefined): void => {
    if (maxCount === 0 || data.byteLength > maxBytes) return void keptFor.set(request, { key, reply: undefined });
    const previous = kept.get(key);
    if (previous) {
      kept.delete(key);
      bytes -= previous.data.byteLength;
    }
    // A relayed reply is a view into the chunk nats.js read it from: keeping it would keep the whole chunk.
    const own = data.byteLength === data.buffer.byteLength ? data : data.slice();
    const reply = { data: own, error, at: performance.now() };
    kept.set(key, reply);
    keptFor.set(request, { key, reply });
    bytes += own.byteLength;
    evict(performance.now());
    sweepLater();
  };

  /** A timer that lets replies go at their age on an idle node too: eviction otherwise runs only on activity. */
  let sweep: ReturnType<typeof setTimeout> | undefined;
  const sweepLater = (): void => {
    const oldest = kept.values().next().value;
    if (sweep !== undefined || oldest === undefined) return;
    const dueInMs = Math.max(0, oldest.at + maxAgeMs - performance.now()) + 1;
    sweep = setTimeout(
      () => {
        sweep = undefined;
        evict(performance.now());
        sweepLater();
      },
      Math.min(dueInMs, MAX_TIMEOUT_MS),
    );
    // Never what keeps a process alive.
    sweep.unref();
  };

  const evict = (now: number): void => {
    for (const [key, reply] of kept) {
      if (kept.size <= maxCount && bytes <= maxBytes && now - reply.at < maxAgeMs) return;
      kept.delete(key);
      bytes -= reply.data.byteLength;
    }
  };

  return {
    started(request, key, relayed = false) {
      inHand.set(request, key);
      count(running, key, 1);
      if (relayed) {
        relayedRequests.add(request);
        count(relayedRunning, key, 1);
      }
      // A new start of the id supersedes what its last one replied: a client resends an execute under the same id
      // (after a `revision_unknown` refusal), and if it loses the new reply, the old refusal is not its answer.
      const previous = kept.get(key);
      if (previous) {
        kept.delete(key);
        bytes -= previous.data.byteLength;
      }
    },
    replied(request, data, error) {
      const key = inHand.get(request);
      if (key === undefined) return;
      inHand.delete(request);
      count(running, key, -1);
      if (relayedRequests.delete(request)) count(relayedRunning, key, -1);
      keep(request, key, data, error);
    },
    amend(request, data, error) {
      const earlier = keptFor.get(request);
      if (!earlier || running.has(earlier.key) || kept.get(earlier.key) !== earlier.reply) return;
      keep(request, earlier.key, data, error);
    },
    clear() {
      clearTimeout(sweep);
      sweep = undefined;
      kept.clear();
      bytes = 0;
    },
    outcome(key, everyNode = false) {
      // Expired replies leave as questions come too, not only as others finish.
      evict(performance.now());
      // Running first: an id sent twice at once (a careless client) has its latest start's reply still to come.
      const inHandHere = running.get(key) ?? 0;
      if (inHandHere > (everyNode ? (relayedRunning.get(key) ?? 0) : 0)) return 'running';
      if (inHandHere > 0) return 'unknown';
      return kept.get(key) ?? 'unknown';
    },
  };
}

/**
 * Answers the outcome questions addressed to the node `nodeId`, and those addressed to every node (see the module
 * comment), from `replies`; a census question about an execution this node has no record of is noted in `searched`
 * (the header is checked without it).
 * Resolves, once the server has the subscriptions, to what stops answering them, for when the node stops.
 * @throws {NatsConnectionError} `refused` (`details.subject`, nothing left subscribed) when the server refused one
 */
export async function serveExecutionOutcomes(
  connection: NatsConnection,
  subjects: TetherSubjects,
  nodeId: string,
  replies: ExecutionReplies,
  searched: SearchedExecutions | undefined,
  report: (error: unknown, where: string) => void,
): Promise<{ unsubscribe(): void }> {
  // Needed: a node that cannot answer a census lets a client take an execution running here for one lost, and run
  // it again elsewhere.
  const serve = (addressee: string): Promise<Subscription> =>
    subscribeNeeded(connection, subjects.executionOutcomes(addressee), {
      what: 'execution outcome questions subscription',
      prefix: subjects.prefix,
      report,
      onMessage(msg) {
        if (!msg.reply) return;
        try {
          answer(msg, addressee === ALL_NODES);
        } catch (failure) {
          // The connection closed meanwhile, or a kept reply at max_payload has no room for the header: the client
          // asks again after its next reconnect, or waits for its timeout.
          report(failure, `answering ${msg.subject}`);
        }
      },
    });
  const subscriptions = await Promise.allSettled([serve(nodeId), serve(ALL_NODES)]);
  const unsubscribe = (): void => {
    for (const result of subscriptions) if (result.status === 'fulfilled') result.value.unsubscribe();
  };
  const failed = subscriptions.find((result) => result.status === 'rejected');
  if (failed) {
    unsubscribe();
    throw failed.reason;
  }
  return { unsubscribe };

  /** `toAll`: a question every node heard, which only the node that has the execution answers. */
  function answer(msg: Msg, toAll: boolean): void {
    let key: string;
    let searchDeadline: number | undefined;
    try {
      key = keyOf(msg);
      searchDeadline = searchDeadlineIn(requestHeaders(msg)?.get(SEARCH_DEADLINE_HEADER));
    } catch (failure) {
      const encoded = encodeError(failure);
      asServiceRequest(msg).respondError(encoded.status, encoded.description, encoded.body);
      return;
    }
    const found = replies.outcome(key, toAll);
    // A census, and no record here (not even one passed on to this node, which every node's question leaves out):
    // taken late from now on, it is refused (searched-executions.ts).
    if (searchDeadline !== undefined && found === 'unknown' && (!toAll || replies.outcome(key) === 'unknown'))
      searched?.searched(key, searchDeadline);
    if (toAll && found === 'unknown') return;
    const h = headers();
    h.set(ACCEPTED_BY_HEADER, nodeId);
    if (typeof found === 'string') {
      h.set(EXECUTION_OUTCOME_HEADER, found);
      msg.respond(encodeJson({ outcome: found }), { headers: h });
      return;
    }
    h.set(EXECUTION_OUTCOME_HEADER, 'finished');
    if (found.error) {
      h.set(ERROR_CODE_HEADER, String(found.error.status));
      h.set(ERROR_HEADER, found.error.description);
    }
    msg.respond(found.data, { headers: h });
  }

  function keyOf(msg: Msg): string {
    const parsed = subjects.parseExecutionOutcome(msg.subject);
    if (!parsed) throw new ValidationError(`subject '${msg.subject.slice(0, 200)}' names no execution outcome`);
    assertSessionId(parsed.sessionId);
    assertModuleId(parsed.moduleId);
    // A question is tiny: anything bigger is not one.
    const body = decodeRequest(msg.data, 1024);
    assertFields(body, ['executionId'], 'execution outcome');
    return executionReplyKey(parsed.sessionId, parsed.moduleId, assertExecutionId(requireString(body, 'executionId')));
  }
}
