/**
 * The reply side of the node's service: turns a function serving one request into a handler that answers it
 * exactly once (the reply, a relayed reply as it came, or an error reply), with this request's events sent first,
 * the reply size checked against the server's `max_payload`, and the endpoint's stats and the request count kept.
 * It also tracks the requests in flight, so a stopping service can wait for them.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { AcceptanceNotices } from './acceptance-notices.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { EventOutbox } from './event-outbox.js';
import type { ExecutionReplies, ReplyError } from './execution-replies.js';
import { replyTooLarge } from './reply-limit.js';
import { withTimeoutOutcome } from './request-failure.js';
import type { AppliedRevisions } from './revision-waiters.js';
import { RelayedReply, type ServiceRequest } from './service-endpoint.js';
import type { TetherSubjects } from './subjects.js';
import type { TrackingStore } from './tracking-store.js';
import { ACCEPT_NOTICE_HEADER, DEFAULT_MAX_PAYLOAD, encodeError } from './wire.js';

/** What {@link createEndpointHandlers} replies with and reports to. */
export interface EndpointHandlerDeps {
  readonly connection: NatsConnection;
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
  readonly report: (error: unknown, where: string) => void;
}

/** A service's handlers and what they have in flight. */
export interface EndpointHandlers {
  /** Requests answered, errors included. */
  readonly requestCount: number;
  /** The requests not answered yet. */
  readonly inFlight: ReadonlySet<Promise<void>>;
  /**
   * The handler of the endpoint `name` on `subject`. `reportsModules`: an error reply carries the modules revision
   * too (a module endpoint's).
   */
  handler(
    name: string,
    subject: string,
    serveOne: (msg: ServiceRequest) => Promise<Uint8Array | RelayedReply>,
    reportsModules?: boolean,
  ): (error: Error | null, msg: ServiceRequest) => void;
}

/** Creates the handlers of one service; see the module comment. */
export function createEndpointHandlers(deps: EndpointHandlerDeps): EndpointHandlers {
  const { connection, subjects, store, modules, stats, notices, outbox, replies, report } = deps;
  const inFlight = new Set<Promise<void>>();
  let requestCount = 0;

  function handler(
    name: string,
    subject: string,
    serveOne: (msg: ServiceRequest) => Promise<Uint8Array | RelayedReply>,
    reportsModules = false,
  ) {
    return (error: Error | null, msg: ServiceRequest): void => {
      if (error) return report(error, `endpoint ${name}`);
      requestCount += 1;
      // Only when asked (one header lookup otherwise): a request still unanswered after a while says so.
      if (msg.headers?.has(ACCEPT_NOTICE_HEADER)) notices.taken(msg);
      const taken = stats.taken();
      const fail = (failure: unknown): void => {
        respondFailure(msg, failure, reportsModules ? modules?.highestRevision : undefined);
        stats.answered(subject, taken, true);
      };
      const done = serveOne(msg).then((reply) => {
        if (reply instanceof RelayedReply) {
          // It fitted in a message from the node that sent it.
          respond(msg, reply.data, reply.error);
          return stats.answered(subject, taken, reply.error !== undefined);
        }
        // Read on every reply: after a reconnect the server, and its max_payload, may be another one.
        const limit = connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
        if (reply.length > limit) return fail(replyTooLarge(subjects, msg.subject, reply.length, limit));
        respond(msg, reply);
        stats.answered(subject, taken, false);
      }, fail);
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    };
  }

  function respondFailure(msg: ServiceRequest, failure: unknown, modulesRevision?: number): void {
    const encoded = encodeError(
      withTimeoutOutcome(failure, subjects, msg.subject),
      store.highestRevision,
      modulesRevision,
    );
    respond(msg, encoded.body, encoded);
  }

  function respond(msg: ServiceRequest, data: Uint8Array, error?: ReplyError): void {
    // A notice not sent yet would arrive after the reply: the caller has no use for it any more.
    notices.replied(msg);
    let sent = { body: data, failed: error };
    try {
      // The events this request caused go first and in the same socket write, so its caller has them on reply.
      outbox.sendNow();
      transmit(msg, data, error);
    } catch (failure) {
      // A closed connection, or a reply over max_payload despite the check above (its headers count too). Tell
      // the caller when the connection still can.
      const encoded = encodeError(failure);
      sent = { body: encoded.body, failed: encoded };
      try {
        transmit(msg, encoded.body, encoded);
      } catch {
        report(failure, `replying on ${msg.subject}`);
      }
    }
    // Kept as what the caller was sent, in the same turn: a question about it cannot come in between.
    replies.replied(msg, sent.body, sent.failed);
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
  };
}
