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
 * The parts: session-request.ts (what a session request does), endpoint-request.ts (what a module endpoint's request
 * does), revision-headers.ts (the read-your-writes waits), endpoint-handler.ts (answering each request once, events
 * first), served-subscriptions.ts (the `serveOn` subscriptions), draining-pings.ts (pings answered while stopping).
 * @module
 */
import { type NatsConnection, type Service } from 'nats';
import { NodeStoppingError, ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { packageVersion } from '../package-version.js';
import type { ServiceEndpoint, ServiceRequest } from './service-endpoint.js';
import type { SessionServiceOptions } from './session-service-options.js';
import type { SessionProvider } from './session-provider.js';
import { createSessionRequests } from './session-request.js';
import { pageRequestOf } from './session-page.js';
import { FORWARDED_OPERATIONS, VARIABLE_OPERATIONS } from './operations.js';
import type { RequestEnded } from './request-ending.js';
import { createSubjects, type TetherSubjects } from './subjects.js';
import { OUTAGE_WAIT_MS } from './revision-waiters.js';
import { variableEventOf, withoutOldValue } from './variable-events.js';
import { EndpointStats, passedOnKey } from './endpoint-stats.js';
import { createEventOutbox } from './event-outbox.js';
import { createEndpointHandlers } from './endpoint-handler.js';
import { awaitApplied, revisionIn } from './revision-headers.js';
import { createAcceptanceNotices } from './acceptance-notices.js';
import { createConnectionLink } from './connection-link.js';
import { createHeldOutput, type HeldOutput } from './held-output.js';
import { createPayloadLimit } from './payload-limit.js';
import { requestKind } from './request-failure.js';
import { DEFAULT_UNAVAILABLE_RETRY_MS } from './retry-unavailable.js';
import { createStopGrace, settlesInGrace, type StopGrace } from './stop-grace.js';
import { createExecutionReplies, serveExecutionOutcomes } from './execution-replies.js';
import { DEFAULT_MAX_PAYLOAD, MIN_REVISION_HEADER, SERVICE_NAME, decodeRequest, encodeReply } from './wire.js';
import { createEndpointRequests } from './endpoint-request.js';
import { ServedSubscriptions } from './served-subscriptions.js';
import { answerPingsWhileDraining } from './draining-pings.js';
import { confirmSubscribed, serviceSubjectRefusals } from './needed-subscription.js';

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

  // The module endpoints whose requests a node passes on to the one that has the module (see module-forward.ts).
  const stats = new EndpointStats(FORWARDED_OPERATIONS.map((operation) => subjects.moduleEndpoint(operation)));
  // Told as every refused subscription of a running node is (see needed-subscription.ts).
  const srvRefusals = serviceSubjectRefusals(connection, (error) => report(error, 'nats'));
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

  const serveEndpoint = createEndpointRequests({ store, modules, maxBytes, waitMs, replies, notices });

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
  const served = new ServedSubscriptions(connection, options.queue ?? 'tether', report);

  // The subscriptions are only sent so far: once the server has them, a request from any connection finds this node.
  // A refused one (the node's NATS user may not subscribe to its request subjects) makes nats.js close the whole
  // service, pings and all: a node that can take no request must not start as if it served. Nor one refused its
  // `$SRV` subscriptions, which nats.js leaves running (see serviceSubjectRefusals): it would answer no ping.
  const serviceRefusal = async (): Promise<unknown> =>
    service.isStopped ? ((await service.stopped) ?? new Error('service stopped')) : await srvRefusals.first();
  const [outcomesStarted, serviceConfirmed] = await Promise.allSettled([
    outcomesStarting,
    confirmSubscribed(connection, 'service subscriptions', subjects.prefix, serviceRefusal),
  ]);
  if (outcomesStarted.status === 'rejected' || serviceConfirmed.status === 'rejected') {
    srvRefusals.stop();
    if (outcomesStarted.status === 'fulfilled') outcomesStarted.value.unsubscribe();
    if (!service.isStopped) await service.stop().catch(() => {});
    unsubscribeEvents();
    held.stop();
    const [refused] = [serviceConfirmed, outcomesStarted].filter((result) => result.status === 'rejected');
    throw refused?.reason;
  }
  const outcomes = outcomesStarted.value;
  srvRefusals.started();

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
      // Counted apart from the requests of the micro service's endpoint it names, so that the node the request
      // reached, which counts it as its own, and this one do not count it twice (see endpoint-stats.ts).
      const { countedIn } = endpoint;
      const statsKey = (msg: ServiceRequest): string => passedOnKey(countedIn?.(msg.subject) ?? endpoint.subject);
      return served.serve(subject, handler(endpoint.name, statsKey, serveOne, true));
    },
    stop(grace = createStopGrace()) {
      stopping ??= (async () => {
        // The service's `$SRV` subscriptions end with it; a refused drain ping is told by its own subscription.
        srvRefusals.stop();
        const pings = answerPingsWhileDraining(connection, service, serviceId, report);
        // nats.js's service drains its subscriptions as the served ones drain: bounded alike, by the stop's one grace.
        await Promise.all([settlesInGrace(service.stop(), grace), served.drainAll(grace)]);
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
      const ended = handlers.end((msg) => {
        // What became of it, as a `node_lost` of the same request says it (request-failure.ts).
        const read = requestKind(subjects, msg.subject) === 'read';
        const details = { reason, ...(read ? { read: true } : { outcome: 'unknown' }) };
        return new NodeStoppingError(serviceId, msg.subject, { details });
      });
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
