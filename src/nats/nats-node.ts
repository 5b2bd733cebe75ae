/**
 * The NATS side of a node: one connection, the variables bucket (tracked, for events and read-your-writes),
 * the session directory, and the `tether` service, started once the runtime that serves it exists. The buckets are
 * opened by node-buckets.ts.
 * @module
 */
import { hostname } from 'node:os';
import type { NatsConnection } from 'nats';
import type { InspectionEvent } from 'xstate';
import { NatsConnectionError } from '../errors.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import type { ModuleSpec } from '../modules/module-spec.js';
import type { Session } from '../session/session.js';
import { assertOptionKeys } from '../option-keys.js';
import { assertConnectionSettings, connectNats, reportReconnects, shownServers } from './connection-options.js';
import { NATS_NODE_KEYS, assertInspectFlag, type NatsNodeOptions } from './nats-node-options.js';
import { startModuleControl, type ModuleControl } from './module-control.js';
import { SearchedExecutions } from './searched-executions.js';
import { createEventOutbox } from './event-outbox.js';
import { createHeldOutput } from './held-output.js';
import { natsInspector } from './inspection.js';
import { createPayloadLimit } from './payload-limit.js';
import { publishModuleEvents } from './module-events.js';
import type { ModuleHost, SharedSpec } from './module-host.js';
import { createConnectionLink } from './connection-link.js';
import { reportPublishRefusals } from './publish-refusal-report.js';
import { createModuleForward } from './module-forward.js';
import { forwardedModuleEndpoint, moduleEndpoints } from './module-service.js';
import type { ServiceEndpoint } from './service-endpoint.js';
import type { StoredModuleSpec } from './module-specs.js';
import type { SpecsWatch } from './module-specs-revisions.js';
import { createModuleClaims } from './module-claims.js';
import { createNodePings } from './node-pings.js';
import { toWireSpec, wireProblem } from './module-wire-spec.js';
import { assertNodeBucketSettings, openNodeBuckets } from './node-buckets.js';
import { executionReplyLimits } from './execution-replies.js';
import { assertUnavailableRetryMs } from './retry-unavailable.js';
import { assertNodeNames } from './node-names.js';
import type { NodeSessions } from './session-life.js';
import { startSessionService, type SessionService } from './session-service.js';
import type { PageRequest, SessionPage } from './session-page.js';
import type { TrackingStore } from './tracking-store.js';
import { SpecChecks } from './spec-checks.js';
import { createStopGrace } from './stop-grace.js';

// The options live in nats-node-options.ts; they stay importable from here, where they were first.
export type { NatsNodeOptions } from './nats-node-options.js';

/** A node's NATS parts, started in two steps: the store first (the runtime needs it), the service last. */
export interface NatsNode {
  readonly store: TrackingStore;
  /**
   * Claims a new module's id in the modules bucket (create-if-absent, taking over a claim no node answers for;
   * `AlreadyExistsError` when the id is taken) and resolves to the claim: `release` removes it again, `stillShared`
   * tells whether a stop removed it meanwhile. A spec that can travel is written there, so any node can wake the
   * module; one that holds functions stays on this node, and the bucket gets this node's claim instead (`local`),
   * while the other nodes pass the module's `execute` and `describe` on to this one (see module-claims.ts).
   */
  claimModule(
    sessionId: string,
    moduleId: string,
    spec: ModuleSpec,
  ): Promise<SharedSpec & { release(): Promise<unknown> }>;
  /**
   * Whether a module's id is taken in the modules bucket now (a spec, or a claim a node answers for): a read, for a
   * creation its session refused before it claimed the id, which says `already_exists` as an embedded runtime does.
   */
  moduleTaken(sessionId: string, moduleId: string): Promise<boolean>;
  /**
   * Stops a module everywhere, as the wire `stop` does: removes its spec from the modules bucket, if it is still
   * the one written at `revision` (a re-created module is not this one's to remove), and then tells every node to
   * stop its process. Resolves `true` when this call removed the spec.
   */
  removeModule(sessionId: string, moduleId: string, revision: number): Promise<boolean>;
  /**
   * Records the session in the sessions bucket (idempotent; a KV write only the first time on this node), so that
   * a session opened through the embedded API is one every client and node sees, as one opened over the wire is.
   * Creating the record purges whatever an earlier life of the id left (see session-removal.ts).
   */
  openSession(sessionId: string): Promise<void>;
  /** The incarnation of the session as its record says now (a KV read), `undefined` when it does not exist. */
  currentSession(sessionId: string): Promise<string | undefined>;
  /**
   * Before a use of the session's life `incarnation` is served: `undefined`, or a stamp of its record to wait for
   * first (see session-expiry.ts); rejects when the session is gone.
   */
  freshSession(sessionId: string, incarnation: string): Promise<void> | undefined;
  /**
   * Deletes the session on every node (only its life `incarnation`, when given): record, variables with their
   * history, module specs, processes. `SessionError` (`session_not_found`) when it does not exist.
   */
  deleteSession(sessionId: string, incarnation?: string): Promise<void>;
  /**
   * A page of the sessions that exist on every node, from the sessions bucket: what the `sessions.list` endpoint
   * answers (see session-listing.ts).
   */
  listSessions(request: PageRequest): Promise<SessionPage>;
  /** A module's spec in the modules bucket, as a node waking it reads it; `undefined` when there is none. */
  loadModule(sessionId: string, moduleId: string): Promise<StoredModuleSpec | undefined>;
  /** Publishes a module process's events (of its session's life `incarnation`); returns what stops it. */
  publishModuleEvents(handle: ModuleHandle, incarnation: string | undefined): () => void;
  /** The inspector publishing the processes' snapshots, when the node was started with `inspect: true`. */
  readonly inspector: ((event: InspectionEvent) => void) | undefined;
  /**
   * The instance id of this node's `tether` service once it serves: what `$SRV.PING` answers with and what a
   * client's `node_lost` names. `undefined` before {@link NatsNode.serve}.
   */
  readonly serviceId: string | undefined;
  /**
   * Starts the service; `start` hands out the node's sessions (opening them when `create`), `modules` its module
   * processes, `sessions` what the node's part in deletions and expiry needs (see session-life.ts; a plain
   * object, whose members are copied).
   */
  serve(
    start: (sessionId: string, create: boolean) => Promise<Session>,
    modules: ModuleHost,
    sessions: NodeSessions,
  ): Promise<void>;
  /** Stops taking requests; requests in progress finish. */
  stopServing(): Promise<void>;
  /**
   * Ends the requests still in progress at once (see `SessionService.endRequests`), for a {@link NatsNode.stopServing}
   * that has waited long enough; resolves with how many it ended.
   */
  endRequests(reason: string): Promise<number>;
  /** Closes the store and the connection. */
  close(): Promise<void>;
  /**
   * Resolves if the connection closes before {@link NatsNode.close}: NATS gave up reconnecting (or refused the
   * node), so the node serves nothing any more. `report` has been told by then.
   */
  readonly lost: Promise<void>;
}

/** The connection name of a node given none. */
const DEFAULT_NAME = 'tether-node';

/**
 * Connects and opens the buckets; `report` is told of failures no request waits for, until NATS gives up: it is told
 * that once, and nothing after it (what fails then fails for that reason).
 */
export async function openNatsNode(
  options: NatsNodeOptions,
  report: (error: unknown, where: string) => void,
): Promise<NatsNode> {
  // Before anything else: a string given for the bag would be spread below as its characters.
  assertOptionKeys(options, 'nats', NATS_NODE_KEYS);
  assertConnectionSettings('nats', options);
  assertUnavailableRetryMs(options.unavailableRetryMs);
  assertInspectFlag(options.inspect);
  // Before connecting: nothing is created under a good name when a later one is bad.
  assertNodeNames(options);
  // Before connecting, and before existing buckets are compared with them (see assertNodeBucketSettings).
  assertNodeBucketSettings(options);
  // Before connecting: a bad limit is refused with nothing to undo (the service checks it again as it starts).
  executionReplyLimits(options.executionReplies);
  const connection: NatsConnection = await connectNats({ name: DEFAULT_NAME, ...options });
  // Made as the node connects: what is sized during an outage is sized to the server's own limit (see payload-limit.ts).
  const payloadLimit = createPayloadLimit(connection);
  let closing = false;
  // A connection that closed without our stop fails whatever runs in the background (a stamp, a flush, a claim's
  // release): consequences of the one report below, not news.
  const background = (error: unknown, where: string): void => {
    if (closing || !connection.isClosed()) report(error, where);
  };
  reportReconnects(connection, options, background);
  // Pending for ever after our own close: only a close nobody asked for means the node is lost.
  const lost = new Promise<void>((resolve) => {
    void connection.closed().then((error) => {
      if (closing) return;
      const note = 'gave up reconnecting; this node serves no more requests';
      report(new NatsConnectionError('closed', shownServers(options.servers), note, { cause: error }), 'nats');
      resolve();
    });
  });
  try {
    // One follower of the connection for the whole node: relays, expiry, held output and the checks below read it.
    const link = createConnectionLink(connection, background);
    // Replies and events wait together through an outage, events first as they were made (see event-outbox.ts); the
    // ends of sessions among them, which the session life publishes.
    const output = createHeldOutput(link, background, connection);
    const outbox = createEventOutbox(connection, background, output, payloadLimit);
    const { store, specs, life, listing, subjects } = await openNodeBuckets(connection, options, background, outbox);
    // After the buckets: a start refused a subject fails with that refusal, rather than telling it to onError too.
    reportPublishRefusals(link, () => connection.getServer(), background);
    // The inspector's snapshots are a live view: not held (see event-outbox.ts).
    const inspection = options.inspect ? createEventOutbox(connection, background, undefined, payloadLimit) : undefined;
    const ownerOf = async (sessionId: string, moduleId: string) =>
      (await specs.current(sessionId, moduleId))?.local?.node;
    const forward = createModuleForward(connection, subjects, link, ownerOf);
    let service: SessionService | undefined;
    let control: ModuleControl | undefined;
    let specWatch: SpecsWatch | undefined;
    let forwarded: ServiceEndpoint | undefined;
    const nodes = createNodePings(connection);
    let connected = true;
    const claims = createModuleClaims({
      specs,
      forward,
      // Before `serve` and after `stopServing` nothing is served: a claim made then is one no node answers for.
      serve: async (sessionId, moduleId) =>
        service && forwarded
          ? service.serveOn(subjects.moduleForwards(sessionId, moduleId), forwarded)
          : async () => {},
      node: () => service?.id ?? '',
      connected: () => connected,
      report: background,
    });
    link.onChange((change) => {
      connected = change === 'reconnected';
      // The ids of modules that ended meanwhile go back now.
      if (connected) claims.retryReleases();
    });
    return {
      store,
      lost,
      get serviceId() {
        return service?.id;
      },
      async claimModule(sessionId, moduleId, spec) {
        // A spec with callbacks or tool objects cannot be rebuilt elsewhere: that module stays on this node.
        if (wireProblem(spec) !== undefined) {
          const claim = await claims.local(sessionId, moduleId);
          return { ...claim, release: claim.local.release };
        }
        const revision = await claims.shared(sessionId, moduleId, toWireSpec(spec));
        return {
          revision,
          release: () => specs.release(sessionId, moduleId, revision),
          stillShared: () => specs.holds(sessionId, moduleId, revision),
        };
      },
      moduleTaken: (sessionId, moduleId) => claims.taken(sessionId, moduleId),
      async removeModule(sessionId, moduleId, revision) {
        const removed = await specs.release(sessionId, moduleId, revision);
        // Only after a removal: the message stops every node's process of the removed spec (not of one created since).
        if (removed) await control?.stop(sessionId, moduleId, revision);
        return removed;
      },
      async openSession(sessionId) {
        await life.open(sessionId);
      },
      currentSession: (sessionId) => life.current(sessionId),
      freshSession: (sessionId, incarnation) => life.fresh(sessionId, incarnation),
      deleteSession: (sessionId, incarnation) => life.delete(sessionId, incarnation),
      listSessions: (request) => listing.page(request),
      loadModule: (sessionId, moduleId) => specs.load(sessionId, moduleId),
      publishModuleEvents: (handle, incarnation) =>
        publishModuleEvents(outbox, subjects, handle, incarnation, service?.id),
      // Named so that tools can tell nodes apart: unnamed nodes all connect as 'tether-node'.
      inspector: inspection
        ? natsInspector(
            inspection,
            subjects,
            options.name ?? `tether-node@${hostname()}:${process.pid}`,
            () => service?.id,
          )
        : undefined,
      async serve(start, modules, nodeSessions) {
        const sessions = life.provider(start);
        /** Whether the connection is up: checks of the module processes go on only then (see spec-checks.ts). */
        let linkUp = true;
        const specChecks = new SpecChecks(
          () => modules.checkSpecsNow(),
          () => linkUp && !closing,
          (error) => background(error, 'modules bucket check'),
        );
        // Every write to the bucket, through outages (the control message of a stop is lost to a node offline
        // then): a removed or replaced spec stops this node's process of it. Open before any request can start one.
        // How far it got is what module requests wait for (`Tether-Min-Modules-Revision`).
        specWatch = specs.watch(
          (sessionId, moduleId, revision) => modules.specWritten(sessionId, moduleId, revision),
          (error) => background(error, 'modules bucket watch'),
          // Messages gone before the watch read them may have been a stop's marker: each process is checked again.
          () => {
            modules.recheckSpecs();
            specChecks.request();
          },
        );
        await specWatch.initialized;
        link.onChange((change) => {
          linkUp = change !== 'disconnected';
          if (change === 'disconnected') {
            specWatch?.suspend();
            modules.recheckSpecs();
          } else {
            // Then checked now, not at their next wake only: a stop's marker may have left the bucket while the
            // node was away, and a handle held here would go on running the module.
            void specWatch?.resume().then(() => specChecks.request());
            life.reconnected();
          }
        });
        await life.serve(
          {
            ...nodeSessions,
            endLocal(sessionId, incarnation, reason) {
              const local = nodeSessions.endLocal(sessionId, incarnation, reason);
              // Done once its events (each held execution's `module.failed`) have left: the node that removed the
              // session announces the end after that (session-removal.ts), and remote handles stop listening there.
              return { had: local.had, done: local.done.then(() => outbox.flushed()) };
            },
          },
          link,
        );
        control = await startModuleControl(connection, subjects, modules, {
          report: background,
          outbox,
          node: () => service?.id,
        });
        // Written by the service's answers to censuses, read by its module endpoints.
        const searched = new SearchedExecutions();
        const deps = { subjects, sessions, host: modules, specs, control, forward, nodes, searched };
        forwarded = forwardedModuleEndpoint(deps);
        service = await startSessionService(connection, sessions, {
          store,
          ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
          ...(options.queue !== undefined ? { queue: options.queue } : {}),
          name: options.name ?? DEFAULT_NAME,
          onError: background,
          outbox,
          output,
          payloadLimit,
          endpoints: moduleEndpoints(deps),
          // A client that saw a module stopped or created again is served by no node whose watch has not seen it.
          modulesRevisions: specs,
          listSessions: (request) => listing.page(request),
          ...(options.executionReplies !== undefined ? { executionReplies: options.executionReplies } : {}),
          searchedExecutions: searched,
          ...(nodeSessions.answerWithinMs !== undefined ? { answerWithinMs: nodeSessions.answerWithinMs } : {}),
        });
      },
      endRequests: async (reason) => (await service?.endRequests(reason)) ?? 0,
      async stopServing() {
        // One grace for the connection, shared by the held replies and the last stamps (see stop-grace.ts). None for a
        // connection that gave up reconnecting, and it ends when the connection gives up during the stop: it never
        // comes back, so the grace would only be waited out.
        const grace = createStopGrace(connection.isClosed() ? 0 : undefined, connection.closed());
        await service?.stop(grace);
        // After the requests in progress: an execution still running here can be cancelled until it ends.
        control?.close();
        specWatch?.stop();
        specs.close();
        await life.stop(grace);
      },
      async close() {
        closing = true;
        // The modules that stayed here have ended with the node: their ids go back before the connection closes
        // (not while it is down: a claim left behind is taken over later, since no node answers for it).
        await claims.settled();
        // The sessions have stopped: the last writes they accepted have their events queued, then out with those of the
        // last executions, still queued for the end of the macrotask.
        await service?.closeEvents();
        await Promise.all([outbox.flushed(), inspection?.flushed()]);
        specs.close();
        await store.close();
        await connection.close();
      },
    };
  } catch (error) {
    closing = true;
    await connection.close();
    throw error;
  }
}
