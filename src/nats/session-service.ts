/**
 * The NATS service of a node: one micro service named `tether` (so `$SRV.PING/INFO/STATS` and `nats micro ls`
 * see it) with an endpoint per session operation, all in one queue group, so each request goes to exactly one
 * of the running nodes. It also publishes the variable change events of the writes this node commits.
 *
 * A request goes: payload checks → session id check → wait until this node's router has applied the revision
 * the client has seen (read-your-writes) → the session (`session_not_found` unless opened) → the operation →
 * `{ result, revision }`. `open` answers `{ sessionId, incarnation }`; a request with the `Tether-Incarnation` header
 * is refused (`session_not_found`, or `session_expired` when this node knows that life expired) unless that life is
 * the session's current one. A session's `delete` (body `{}`, result `{ deleted: true }`) loads no session: the provider
 * deletes it on every node (see session-removal.ts). Nor does `sessions.list` (body `{ after?, limit? }`, result
 * `{ ids, next? }`): it pages through the sessions that exist (see session-listing.ts). A module request also waits
 * for the modules-bucket revision the client has seen, and its reply adds `modulesRevision`. Any failure is an error
 * reply; nothing a request carries can throw past the handler.
 * An endpoint may also be served on subscriptions of its own that come and go (`serveOn`), outside the micro
 * service but in its queue group, with the same pipeline: a module's forward subjects (see module-forward.ts).
 * The parts: session-request.ts (what a session request does), revision-headers.ts (the read-your-writes waits),
 * endpoint-handler.ts (answering each request once, events first).
 * @module
 */
import { type NatsConnection, type Service, type Subscription } from 'nats';
import { NodeStoppingError, ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime.js';
import { packageVersion } from '../package-version.js';
import { RelayedReply, asServiceRequest, type ServiceEndpoint, type ServiceRequest } from './service-endpoint.js';
import type { SessionProvider } from './session-directory.js';
import { createSessionRequests } from './session-request.js';
import { pageRequestOf, type PageRequest, type SessionPage } from './session-page.js';
import { VARIABLE_OPERATIONS } from './operations.js';
import type { RequestEnded } from './request-ending.js';
import { createSubjects, type TetherSubjects } from './subjects.js';
import type { TrackingStore } from './tracking-store.js';
import { OUTAGE_WAIT_MS, type AppliedRevisions } from './revision-waiters.js';
import { variableEventOf, withoutOldValue } from './variable-events.js';
import { EndpointStats } from './endpoint-stats.js';
import { createEventOutbox, type EventOutbox } from './event-outbox.js';
import { createEndpointHandlers } from './endpoint-handler.js';
import { awaitApplied, revisionIn } from './revision-headers.js';
import { createAcceptanceNotices } from './acceptance-notices.js';
import { createConnectionLink } from './connection-link.js';
import { createHeldOutput, type HeldOutput } from './held-output.js';
import { createPayloadLimit, type PayloadLimit } from './payload-limit.js';
import { DEFAULT_UNAVAILABLE_RETRY_MS } from './retry-unavailable.js';
import { createStopGrace, settlesInGrace, type StopGrace } from './stop-grace.js';
import { createExecutionReplies, serveExecutionOutcomes, type ExecutionReplyLimits } from './execution-replies.js';
import {
  ACCEPT_NOTICE_HEADER,
  DEFAULT_MAX_PAYLOAD,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  SERVICE_NAME,
  decodeRequest,
  encodeJson,
  encodeReply,
} from './wire.js';
import { guarded } from './guarded-callback.js';
import { confirmSubscribed } from './needed-subscription.js';
import type { SearchedExecutions } from './searched-executions.js';

/** Options of {@link startSessionService}. */
export interface SessionServiceOptions {
  /** The node's store, wrapped by `createTrackingStore`: revisions for read-your-writes, commits for events. */
  readonly store: TrackingStore;
  /** @default 'tether' */
  readonly prefix?: string;
  /** The micro service version (semver). @default the version in Tether's package.json */
  readonly version?: string;
  /** The node's connection name, put in the `$SRV.INFO` metadata so an operator can match an instance id to a node. */
  readonly name?: string;
  /** The queue group every endpoint joins; nodes sharing it share the load. @default 'tether' */
  readonly queue?: string;
  /** Largest request body; must not exceed the server's `max_payload`. @default 1 MiB (capped at the server's) */
  readonly maxPayloadBytes?: number;
  /**
   * The largest encoded record `store` takes: a define whose session is not there is judged against it too (see
   * define-judgement.ts). @default the store's `recordLimit` when it has one (a node store), else no limit
   */
  readonly recordLimit?: number;
  /**
   * How long a request waits for the node to apply the client's revision before `call_timeout`; longer while the
   * node's watch is down (see `OUTAGE_WAIT_MS`). @default 2000
   */
  readonly revisionWaitMs?: number;
  /** Told about failures no request is waiting for (an event that could not be published). */
  readonly onError?: (error: unknown, where: string) => void;
  /**
   * Where variable events go; a node shares one with its module events. @default one on `connection`, sending through
   * the service's output
   */
  readonly outbox?: EventOutbox;
  /**
   * What the replies and acceptance notices due while the connection is down wait in; a node's event outbox sends
   * through the same one, so its events keep their place among them through an outage. It is the giver's to stop.
   * @default one of the service's own, following `connection` until the service stops
   */
  readonly output?: HeldOutput;
  /**
   * The server's `max_payload` as the node reads it, which replies and paged reads are sized to; a node shares one
   * with its event outbox, made while it was connected (see payload-limit.ts). @default one following `connection`
   */
  readonly payloadLimit?: PayloadLimit;
  /** More endpoints on the same service and queue group (the module endpoints of a node). */
  readonly endpoints?: readonly ServiceEndpoint[];
  /**
   * The modules bucket's revisions on this node (its watch's): a request to one of `endpoints` waits (as long as
   * for the store's) until the one in its `Tether-Min-Modules-Revision` header is applied, and its reply carries
   * `modulesRevision`. Left out, the endpoints neither wait for it nor report it.
   */
  readonly modulesRevisions?: AppliedRevisions;
  /** How many replies of finished executions this node keeps for clients that lost them, and how long. */
  readonly executionReplies?: ExecutionReplyLimits;
  /**
   * Where the censuses of executions this node has no record of are noted, for the module endpoints to refuse such an
   * execution taken late (see searched-executions.ts). Left out, nothing is noted.
   */
  readonly searchedExecutions?: SearchedExecutions;
  /**
   * The sessions that exist, a page at a time: the `sessions.list` endpoint answers with it (the node's session
   * listing, see session-listing.ts). Left out, the service has no such endpoint.
   */
  readonly listSessions?: (request: PageRequest) => Promise<SessionPage>;
  /**
   * The longest a request other than `execute` waits here after its read-your-writes wait before it is answered; a
   * late notice tells the caller how much of that is left (see `ACCEPT_NOTICE_HEADER`). @default 27000
   */
  readonly answerWithinMs?: number;
}

/** A running service. */
export interface SessionService {
  /** The micro instance id (what `$SRV.PING` answers with). */
  readonly id: string;
  readonly subjects: TetherSubjects;
  /** Requests this node has answered, errors included. */
  readonly requestCount: number;
  /**
   * Serves `endpoint` on `subject` as well, through a subscription of its own in the service's queue group, outside
   * the micro service (`$SRV` does not list it), with everything the service's own endpoints get: the
   * read-your-writes waits, acceptance notices, replies with the revisions, draining on stop. For subjects that come
   * and go (a module's forward subjects live as long as its process). Resolves once the server has the
   * subscription, to the function that drains it again; after {@link SessionService.stop} it subscribes nothing.
   */
  serveOn(subject: string, endpoint: ServiceEndpoint): Promise<() => Promise<void>>;
  /**
   * Stops taking requests (the subscriptions drain, the server's answer waited for within `grace`) and waits for the
   * ones in progress, and for their replies held through an outage to go, within `grace` (the node's stop's one grace
   * for its connection; see stop-grace.ts).
   * Variable events go on: the node's own callers may still write until its sessions stop (see
   * {@link SessionService.closeEvents}).
   */
  stop(grace?: StopGrace): Promise<void>;
  /**
   * Stops publishing variable events once every write committed so far has its event queued. For after the node's
   * sessions have stopped, so that no write they accepted goes without its event.
   */
  closeEvents(): Promise<void>;
  /**
   * Ends every request in flight at once, for a stop that has waited long enough for them: each is answered with
   * `NodeStoppingError` (`reason` in its message and `details.reason`) and its work is aborted (an execution is
   * cancelled), so {@link SessionService.stop} goes on. Resolves, with how many it ended, once the server has the
   * replies.
   */
  endRequests(reason: string): Promise<number>;
}

/**
 * How long {@link SessionService.serveOn} waits for the server to confirm a subscription. Bounded: during an outage
 * the subscription goes out once the connection is back, and what it serves (a module that runs on this node) must
 * not wait for NATS to be created.
 */
const SUBSCRIBE_WAIT_MS = 2_000;

/**
 * A request's longest expected wait on a node after the read-your-writes wait, for a node whose session writes time
 * out after `writeTimeoutMs` (its call timeout and its ride through an election): that, one JetStream request that
 * was in flight then (5 s), and 2 s to spare.
 */
export function answerWithinFor(writeTimeoutMs: number): number {
  // A header states whole milliseconds a client can wait: a call timeout of Infinity states the longest.
  return Math.min(writeTimeoutMs + 7000, MAX_TIMEOUT_MS);
}

/** {@link answerWithinFor} the runtime's defaults: a 5 s call timeout and a 15 s ride through an election. */
const DEFAULT_ANSWER_WITHIN_MS = answerWithinFor(5000 + DEFAULT_UNAVAILABLE_RETRY_MS);

/**
 * Starts the service on `connection`. `provider` hands out sessions; it is the only way in to the node, so
 * this layer does not depend on how the node runs them.
 * @example
 * const service = await startSessionService(nc, directory.provider((id) => runtime.session(id)), { store });
 * // later
 * await service.stop();
 */
export async function startSessionService(
  connection: NatsConnection,
  provider: SessionProvider,
  options: SessionServiceOptions,
): Promise<SessionService> {
  const subjects = createSubjects(options.prefix);
  const { store } = options;
  const report = options.onError ?? ((error: unknown, where: string) => console.error(`[tether] ${where}:`, error));
  const payloadLimit = options.payloadLimit ?? createPayloadLimit(connection);
  const serverMax = payloadLimit();
  if (options.maxPayloadBytes !== undefined && !(options.maxPayloadBytes > 0 && options.maxPayloadBytes <= serverMax)) {
    throw new ValidationError(`maxPayloadBytes must be between 1 and the server's max_payload (${serverMax})`, {
      details: { maxPayloadBytes: options.maxPayloadBytes, serverMax },
    });
  }
  const maxBytes = options.maxPayloadBytes ?? Math.min(DEFAULT_MAX_PAYLOAD, serverMax);
  const waitMs = options.revisionWaitMs ?? 2000;
  const modules = options.modulesRevisions;
  // Checked before anything starts: a bad limit fails the start and leaves nothing behind.
  const replies = createExecutionReplies(options.executionReplies);

  const held = serviceOutput(connection, report, options.output);
  const { output } = held;
  const outbox = options.outbox ?? createEventOutbox(connection, report, output, payloadLimit);
  const unsubscribeEvents = store.onCommitted((change) => {
    const event = variableEventOf(change);
    // Queued with the commit: the reply to the write (when it came over NATS) carries it ahead of itself.
    // Only an old value stored before the record limit applied can make it too large; the change still goes out.
    if (event) outbox.publish(subjects.variableEvent(event.sessionId, event.name), event, () => withoutOldValue(event));
  });

  const stats = new EndpointStats();
  const service: Service = await connection.services.add({
    name: SERVICE_NAME,
    statsHandler: async (endpoint) => stats.data(endpoint.subject),
    version: options.version ?? packageVersion(),
    queue: options.queue ?? 'tether',
    description: 'Tether sessions, variables and modules',
    metadata: { prefix: subjects.prefix, ...(options.name === undefined ? {} : { name: options.name }) },
  });

  const serviceId = service.info().id;
  // The read-your-writes wait at its longest: its bound, and what an outage of the node's watch adds to it.
  const answerWithinMs = waitMs + OUTAGE_WAIT_MS + (options.answerWithinMs ?? DEFAULT_ANSWER_WITHIN_MS);
  const notices = createAcceptanceNotices(connection, serviceId, answerWithinMs, report, output);
  const handlers = createEndpointHandlers({
    connection,
    payloadLimit,
    subjects,
    store,
    modules,
    stats,
    notices,
    outbox,
    replies,
    output,
    report,
  });
  const { handler, inFlight } = handlers;
  // Subscribed before the endpoints, confirmed with them below: a request this node takes can be asked about at once.
  const outcomesStarting = serveExecutionOutcomes(
    connection,
    subjects,
    serviceId,
    replies,
    options.searchedExecutions,
    report,
  );

  /** One request of an extra endpoint: checked, then run after the read-your-writes wait. */
  async function serveEndpoint(
    msg: ServiceRequest,
    endpoint: ServiceEndpoint,
    ended: RequestEnded,
  ): Promise<Uint8Array | RelayedReply> {
    const body = decodeRequest(msg.data, maxBytes);
    const work = endpoint.prepare(msg.subject, body, msg.headers);
    // Both headers are checked before anything else happens: a bad one is refused without a notice sent, a wait left
    // behind, or the kept reply of an execution of the same id superseded (see `started`).
    const header = msg.headers?.get(MIN_MODULES_REVISION_HEADER);
    const minModules = modules ? revisionIn(header, MIN_MODULES_REVISION_HEADER) : undefined;
    const minRevision = revisionIn(msg.headers?.get(MIN_REVISION_HEADER), MIN_REVISION_HEADER);
    const replyKey = endpoint.replyKey?.(msg.subject, body);
    if (replyKey !== undefined) replies.started(msg, replyKey, endpoint.relayedHere);
    // Only when asked (one header lookup otherwise): the caller then watches this node until the reply comes.
    if (endpoint.announcesAcceptance && msg.headers?.has(ACCEPT_NOTICE_HEADER)) notices.accepted(msg);
    const waiting = minRevision === undefined ? undefined : awaitApplied(minRevision, store, 'revision', waitMs);
    const waitingModules =
      modules && minModules !== undefined ? awaitApplied(minModules, modules, 'modules revision', waitMs) : undefined;
    if (waiting || waitingModules) {
      const release = replyKey === undefined ? undefined : endpoint.holdWhileWaiting?.(replyKey);
      try {
        await Promise.all([waiting, waitingModules]);
      } finally {
        release?.();
      }
    }
    // Answered already: what it asked for must not start now.
    if (ended.ended) throw ended.reason;
    const result = await work(ended);
    // Another node's answer goes on as it came: its revisions are those of what it did.
    if (result instanceof RelayedReply) return result;
    return encodeReply(result, store.highestRevision, modules?.highestRevision);
  }

  const serve = createSessionRequests({
    provider,
    store,
    subjects,
    maxBytes,
    awaitRevision,
    recordLimit: options.recordLimit ?? (store as { readonly recordLimit?: number }).recordLimit,
    // Read on every request: after a reconnect the server, and its max_payload, may be another one.
    replyLimit: payloadLimit,
  });

  /** Rejects the header, or waits until this node has applied the revision; `undefined` when it already has. */
  function awaitRevision(header: string | undefined): Promise<void> | undefined {
    const revision = revisionIn(header, MIN_REVISION_HEADER);
    return revision === undefined ? undefined : awaitApplied(revision, store, 'revision', waitMs);
  }

  service.addEndpoint('open', {
    subject: subjects.endpoint('open'),
    handler: handler('open', subjects.endpoint('open'), (msg) => serve(msg, 'open')),
    metadata: { operation: 'open' },
  });
  service.addEndpoint('delete', {
    subject: subjects.deleteEndpoint(),
    handler: handler('delete', subjects.deleteEndpoint(), (msg) => serve(msg, 'session.delete')),
    metadata: { operation: 'session.delete' },
  });
  const { listSessions } = options;
  if (listSessions) {
    const subject = subjects.sessionsList();
    // No read-your-writes wait: the listing reads the sessions bucket itself, which holds every open and removal a
    // client was answered for, and no revision of the variables bucket tells anything about it.
    const serveList = async (msg: ServiceRequest): Promise<Uint8Array> =>
      encodeReply(await listSessions(pageRequestOf(decodeRequest(msg.data, maxBytes))), store.highestRevision);
    service.addEndpoint('sessions-list', {
      subject,
      handler: handler('sessions-list', subject, serveList),
      metadata: { operation: 'sessions.list' },
    });
  }
  for (const operation of VARIABLE_OPERATIONS) {
    const serveOne = (msg: ServiceRequest) => serve(msg, operation);
    service.addEndpoint(`var-${operation}`, {
      subject: subjects.endpoint(operation),
      handler: handler(operation, subjects.endpoint(operation), serveOne),
      metadata: { operation },
    });
  }
  for (const endpoint of options.endpoints ?? []) {
    const serveOne = (msg: ServiceRequest, ended: RequestEnded) => serveEndpoint(msg, endpoint, ended);
    service.addEndpoint(endpoint.name, {
      subject: endpoint.subject,
      handler: handler(endpoint.name, endpoint.subject, serveOne, true),
      ...(endpoint.metadata ? { metadata: { ...endpoint.metadata } } : {}),
    });
  }

  /** The subscriptions of {@link SessionService.serveOn}, drained with the service. */
  const extraSubscriptions = new Set<Subscription>();

  /**
   * Stopping the service also ends its `$SRV` subscriptions, yet the requests in flight still get their replies:
   * until they have, this instance answers its pings, so a caller watching it (it asked for an acceptance notice)
   * does not take a draining node for a lost one. Subscribed before the service unsubscribes: no gap. Subscribed
   * with nothing in flight too: a request the server delivered before the unsubscription is still taken while the
   * service drains, and announced.
   */
  function answerPingsWhileDraining(): Subscription | undefined {
    if (connection.isClosed()) return undefined;
    const identity = encodeJson(service.ping());
    try {
      return connection.subscribe(`$SRV.PING.${SERVICE_NAME}.${serviceId}`, {
        callback: guarded(report, 'answering pings while draining', (_error, msg) => msg.respond(identity)),
      });
    } catch (error) {
      // A draining connection takes no subscription; its node is going anyway.
      report(error, 'answering pings while draining');
      return undefined;
    }
  }

  /**
   * Drains one of {@link extraSubscriptions}: a request the server routed to it before it went still gets served.
   * Waited for within `grace` (the stop's, or a stop's length for a module's release, which a stop may wait for):
   * nats.js's drain ends with the server's answer to a flush, which a server that stopped answering with the
   * connection still up (frozen, its packets dropped) never sends, and no outage comes to end the wait. Past it, the
   * subscription goes on draining, or closes with the connection.
   */
  async function drain(subscription: Subscription, grace = createStopGrace()): Promise<void> {
    if (!extraSubscriptions.delete(subscription) || subscription.isClosed()) return;
    const draining = subscription.drain().catch((error: unknown) => {
      // A closed connection has ended the subscription already.
      if (!connection.isClosed()) report(error, `draining ${subscription.getSubject()}`);
    });
    await settlesInGrace(draining, grace);
  }

  // The subscriptions are only sent so far: once the server has them, a request from any connection finds this node.
  // A refused one (the node's NATS user may not subscribe to its request subjects) makes nats.js close the whole
  // service, pings and all: a node that can take no request must not start as if it served.
  const serviceRefusal = async (): Promise<unknown> =>
    service.isStopped ? ((await service.stopped) ?? new Error('service stopped')) : undefined;
  const [outcomesStarted, serviceConfirmed] = await Promise.allSettled([
    outcomesStarting,
    confirmSubscribed(connection, 'service subscriptions', subjects.prefix, serviceRefusal),
  ]);
  if (outcomesStarted.status === 'rejected' || serviceConfirmed.status === 'rejected') {
    if (outcomesStarted.status === 'fulfilled') outcomesStarted.value.unsubscribe();
    if (!service.isStopped) await service.stop().catch(() => {});
    unsubscribeEvents();
    held.stop();
    const [refused] = [serviceConfirmed, outcomesStarted].filter((result) => result.status === 'rejected');
    throw refused?.reason;
  }
  const outcomes = outcomesStarted.value;

  let stopping: Promise<void> | undefined;
  return {
    id: serviceId,
    subjects,
    get requestCount() {
      return handlers.requestCount;
    },
    async serveOn(subject, endpoint) {
      if (stopping || connection.isClosed()) return async () => {};
      const serveOne = (msg: ServiceRequest, ended: RequestEnded) => serveEndpoint(msg, endpoint, ended);
      // Counted under the endpoint's own (wildcard) subject: one count for all the subscriptions serving it.
      const handle = handler(endpoint.name, endpoint.subject, serveOne, true);
      const subscription = connection.subscribe(subject, {
        queue: options.queue ?? 'tether',
        callback: guarded(report, `subscription ${subject}`, (error, msg) =>
          error ? report(error, `subscription ${subject}`) : handle(null, asServiceRequest(msg)),
        ),
      });
      extraSubscriptions.add(subscription);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        connection.flush().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      return () => drain(subscription);
    },
    stop(grace = createStopGrace()) {
      stopping ??= (async () => {
        const pings = answerPingsWhileDraining();
        // nats.js's service drains its subscriptions as `drain` does: bounded alike, by the stop's one grace.
        await Promise.all([
          settlesInGrace(service.stop(), grace),
          ...[...extraSubscriptions].map((subscription) => drain(subscription, grace)),
        ]);
        await Promise.allSettled([...inFlight]);
        // The events of the last requests join the output, behind their replies.
        await outbox.flushed();
        // A request counts as answered once its reply is held: those held through an outage go out before the stop
        // goes on, if the connection is back within the grace from the first falling due (its caller waits no longer).
        await output.flushed(grace);
        pings?.unsubscribe();
        // Answered until every reply has gone: a client that lost one of the last can still ask.
        outcomes.unsubscribe();
        replies.clear();
        held.stop();
      })();
      return stopping;
    },
    async closeEvents() {
      // Writes accepted before the close still get their events out.
      await store.settled();
      unsubscribeEvents();
    },
    async endRequests(reason) {
      const ended = handlers.end((msg) => new NodeStoppingError(serviceId, msg.subject, { details: { reason } }));
      // The replies are only queued so far: out before the node closes its connection (or its process exits).
      if (ended > 0 && !connection.isClosed()) await connection.flush().catch(() => {});
      return ended;
    },
  };
}

/**
 * The output the service's replies wait in through an outage: the node's (its to stop), or one of the service's own,
 * on a link of its own, both stopped with the service.
 */
function serviceOutput(
  connection: NatsConnection,
  report: (error: unknown, where: string) => void,
  given: HeldOutput | undefined,
): { readonly output: HeldOutput; stop(): void } {
  if (given !== undefined) return { output: given, stop: () => {} };
  const link = createConnectionLink(connection, report);
  const output = createHeldOutput(link, report, connection);
  return {
    output,
    stop() {
      link.stop();
      output.stop();
    },
  };
}
