/**
 * The options of a node's session service (session-service.ts): what it serves from, its names and limits, and what it
 * shares with the rest of its node.
 * @module
 */
import type { ServiceEndpoint } from './service-endpoint.js';
import type { PageRequest, SessionPage } from './session-page.js';
import type { TrackingStore } from './tracking-store.js';
import type { AppliedRevisions } from './revision-waiters.js';
import type { EventOutbox } from './event-outbox.js';
import type { HeldOutput } from './held-output.js';
import type { PayloadLimit } from './payload-limit.js';
import type { ExecutionReplyLimits } from './execution-replies.js';
import type { SearchedExecutions } from './searched-executions.js';

/** Options of `startSessionService` (session-service.ts). */
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
