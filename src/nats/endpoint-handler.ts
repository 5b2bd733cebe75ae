/**
 * The reply side of the node's service: turns a function serving one request into a handler that answers it
 * exactly once (the reply, a relayed reply as it came, or an error reply), with this request's events sent first,
 * the reply size checked against the server's `max_payload`, and the endpoint's stats and the request count kept.
 * It also tracks the requests in flight, so a stopping service can wait for them, and end the ones that take too long:
 * each then gets an error reply at once and its work an abort (see {@link EndpointHandlers.end}).
 * @module
 */
import type { NatsConnection } from 'nats';
import type { AcceptanceNotices } from './acceptance-notices.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { EventOutbox } from './event-outbox.js';
import type { ExecutionReplies, ReplyError } from './execution-replies.js';
import type { HeldOutput } from './held-output.js';
import type { PayloadLimit } from './payload-limit.js';
import { replyTooLarge } from './reply-limit.js';
import { withTimeoutOutcome } from './request-failure.js';
import type { AppliedRevisions } from './revision-waiters.js';
import { RelayedReply, type ServiceRequest } from './service-endpoint.js';
import type { TetherSubjects } from './subjects.js';
import type { TrackingStore } from './tracking-store.js';
import { RequestEnding, type RequestEnded } from './request-ending.js';
import { DEADLINE_HEADER, pastDeadline, takenLate } from './request-deadline.js';
import { UNTAKEN_AFTER_MS } from './taker-search.js';
import { MODULE_READS, VARIABLE_READS, type ModuleOperation, type VariableOperation } from './operations.js';
import { ACCEPT_NOTICE_HEADER, encodeError } from './wire.js';
import { spelledRequest } from './request-headers.js';

/** What {@link createEndpointHandlers} replies with and reports to. */
export interface EndpointHandlerDeps {
  readonly connection: NatsConnection;
  /** The server's `max_payload`, which a reply must fit in; while down, the last announced (see payload-limit.ts). */
  readonly payloadLimit: PayloadLimit;
  readonly subjects: TetherSubjects;
  /** Its highest revision goes in every error reply. */
  readonly store: TrackingStore;
  /** The modules bucket's revisions, put in the error replies of module endpoints. */
  readonly modules: AppliedRevisions | undefined;
  readonly stats: EndpointStats;
  readonly notices: AcceptanceNotices;
  /** Sent before each reply, so its caller has the events of its request on reply. */
  readonly outbox: EventOutbox;
  /** Told of every reply, to keep those of executions (see execution-replies.ts). */
  readonly replies: ExecutionReplies;
  /** Where replies go out: at once, or once the connection is back (see held-output.ts). */
  readonly output: HeldOutput;
  readonly report: (error: unknown, where: string) => void;
}

/** A service's handlers and what they have in flight. */
export interface EndpointHandlers {
  /** Requests answered, errors included. */
  readonly requestCount: number;
  /** The requests not answered yet: each settles once its reply has gone, whether its work ended or was ended. */
  readonly inFlight: ReadonlySet<Promise<void>>;
  /**
   * The handler of the endpoint `name`, its requests counted in the endpoint stats under `statsKey` (the endpoint's
   * subject, or for one served outside the micro service the key each request is counted under). `serveOne` hears
   * through `ended` if the request is ended ({@link EndpointHandlers.end}). `reportsModules`: an error reply carries
   * the modules revision too (a module endpoint's).
   */
  handler(
    name: string,
    statsKey: StatsKey,
    serveOne: (msg: ServiceRequest, ended: RequestEnded) => Promise<Uint8Array | RelayedReply>,
    reportsModules?: boolean,
  ): (error: Error | null, msg: ServiceRequest) => void;
  /**
   * Answers every request in flight with the error `failure` makes for it, at once, and ends its work's `ended`
   * with that error; what the work comes to later is dropped. Returns how many it ended.
   */
  end(failure: (msg: ServiceRequest) => unknown): number;
}

/** Where a request counts in the endpoint stats: one key for all an endpoint's requests, or one read off each. */
export type StatsKey = string | ((msg: ServiceRequest) => string);

/** A request in flight: answers it with an error before its work ends; `false` when it was answered already. */
type Ending = (failure: (msg: ServiceRequest) => unknown) => boolean;

/**
 * Whether a request on `subject` (its operation is the last token) is held to its deadline: all but the reads, and
 * `open`, which undoes nothing late (it opens the session its caller asked for), and which a client whose clock is
 * off must still get through to read; and a module's `cancel`, which stops only the execution it names, what its
 * caller wanted however late. The queue group may hand a cancel to the very node that stalled with its execution:
 * refused once that node resumed, the execution would run for a caller that gave it up.
 */
function heldToDeadline(subject: string): boolean {
  const operation = subject.slice(subject.lastIndexOf('.') + 1);
  if (operation === 'open' || operation === 'cancel') return false;
  return !VARIABLE_READS.has(operation as VariableOperation) && !MODULE_READS.has(operation as ModuleOperation);
}

/** Creates the handlers of one service; see the module comment. */
export function createEndpointHandlers(deps: EndpointHandlerDeps): EndpointHandlers {
  const { connection, payloadLimit, subjects, store, modules, stats, notices, outbox, replies, output, report } = deps;
  const inFlight = new Set<Promise<void>>();
  const endings = new Map<Promise<void>, Ending>();
  let requestCount = 0;

  function handler(
    name: string,
    statsKey: StatsKey,
    serveOne: (msg: ServiceRequest, ended: RequestEnded) => Promise<Uint8Array | RelayedReply>,
    reportsModules = false,
  ) {
    return (error: Error | null, received: ServiceRequest): void => {
      if (error) return report(error, `endpoint ${name}`);
      requestCount += 1;
      // Read by every step below under the names they look up, however the client spelled them.
      const { request: msg, refusal } = spelledRequest(received);
      // Only when asked (one header lookup otherwise): a request still unanswered after a while says so.
      if (msg.headers?.has(ACCEPT_NOTICE_HEADER)) notices.taken(msg);
      const taken = stats.taken();
      const subject = typeof statsKey === 'string' ? statsKey : statsKey(msg);
      const ending = new RequestEnding();
      // Answered once: by its work, or by an end that came first (what the work comes to is then dropped).
      let answer: (() => void) | undefined;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      const first = (): boolean => {
        const open = answer !== undefined;
        answer?.();
        answer = undefined;
        return open;
      };
      const failNow = (failure: unknown): void => {
        const description = respondFailure(msg, failure, reportsModules ? modules?.highestRevision : undefined);
        stats.answered(subject, taken, description);
      };
      const fail = (failure: unknown): void => void (first() && failNow(failure));
      const succeed = (reply: Uint8Array | RelayedReply): void => {
        if (!first()) return;
        if (reply instanceof RelayedReply) {
          // It fitted in a message from the node that sent it.
          respond(msg, reply.data, reply.error);
          return stats.answered(subject, taken, reply.error?.description);
        }
        // Read on every reply: after a reconnect the server, and its max_payload, may be another one.
        const limit = payloadLimit();
        if (reply.length > limit) return failNow(replyTooLarge(subjects, msg.subject, reply.length, limit));
        respond(msg, reply);
        stats.answered(subject, taken);
      };
      // Its caller gave up on it long ago (this node stalled): carried out now, it would undo the caller's later
      // writes.
      const deadline = msg.headers?.get(DEADLINE_HEADER);
      const late = heldToDeadline(msg.subject) ? pastDeadline(msg.subject, deadline) : undefined;
      // An execution taken late (this node stalled) starts once the node has heard all that was sent to it before:
      // a cancel, or a census of its caller that found it nowhere, comes first, and it does not run
      // (see searched-executions.ts).
      const serve = (): Promise<Uint8Array | RelayedReply> =>
        msg.subject.endsWith('.execute') && takenLate(deadline, UNTAKEN_AFTER_MS)
          ? connection.flush().then(() => serveOne(msg, ending))
          : serveOne(msg, ending);
      const refused = refusal ?? late;
      void (refused ? Promise.reject(refused) : serve()).then(succeed, fail);
      inFlight.add(answered);
      endings.set(answered, (failure) => {
        if (!first()) return false;
        const error = failure(msg);
        failNow(error);
        ending.end(error);
        return true;
      });
      void answered.then(() => {
        inFlight.delete(answered);
        endings.delete(answered);
      });
    };
  }

  /** Answers `failure` as an error reply; returns the reply's description, for the endpoint's stats. */
  function respondFailure(msg: ServiceRequest, failure: unknown, modulesRevision?: number): string {
    const encoded = encodeError(
      withTimeoutOutcome(failure, subjects, msg.subject),
      store.highestRevision,
      modulesRevision,
    );
    respond(msg, encoded.body, encoded);
    return encoded.description;
  }

  function respond(msg: ServiceRequest, data: Uint8Array, error?: ReplyError): void {
    // A notice not sent yet would arrive after the reply: the caller has no use for it any more.
    notices.replied(msg);
    // The events this request caused go first, in the same socket write, so its caller has them on reply; held
    // through an outage, they stay ahead of the reply held with them.
    outbox.sendNow();
    // Kept as what the caller was sent, or is to be, in the same turn: a question about it cannot come in between.
    let kept = false;
    try {
      // Sent at once (the closure runs before `send` returns), or once the connection is back.
      output.send(() => {
        const sent = deliver(msg, data, error);
        if (!kept) replies.replied(msg, sent.body, sent.failed);
        // Held, it was kept as it was to go: what went out instead (an error reply) is kept instead.
        else if (sent.body !== data) replies.amend(msg, sent.body, sent.failed);
        kept = true;
        // Thrown to whoever sent it: the held output counts a held reply lost with the others it lost and tells
        // them at once (see held-output.ts); one sent at once is told below.
        if (sent.lost !== undefined) throw sent.lost;
      }, data.byteLength);
    } catch (failure) {
      report(failure, `replying on ${msg.subject}`);
    }
    if (!kept) replies.replied(msg, data, error);
    kept = true;
  }

  /**
   * Sends the reply, or an error reply when that fails; returns what was sent, and as `lost` why nothing reached the
   * caller when the error reply failed too.
   */
  function deliver(msg: ServiceRequest, data: Uint8Array, error: ReplyError | undefined) {
    try {
      transmit(msg, data, error);
      return { body: data, failed: error, lost: undefined };
    } catch (failure) {
      // A closed connection, or a reply over max_payload despite the check above (its headers count too). Tell
      // the caller when the connection still can.
      const encoded = encodeError(failure);
      try {
        transmit(msg, encoded.body, encoded);
        return { body: encoded.body, failed: encoded, lost: undefined };
      } catch {
        return { body: encoded.body, failed: encoded, lost: failure };
      }
    }
  }

  function transmit(msg: ServiceRequest, data: Uint8Array, error: ReplyError | undefined): void {
    if (error) msg.respondError(error.status, error.description, data);
    else msg.respond(data);
  }

  return {
    get requestCount() {
      return requestCount;
    },
    inFlight,
    handler,
    end(failure) {
      let ended = 0;
      for (const end of [...endings.values()]) if (end(failure)) ended += 1;
      return ended;
    },
  };
}
