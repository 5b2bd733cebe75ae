/**
 * What a request of one of the node's extra endpoints (its module endpoints) does, from its body to its reply:
 * checks the body and both revision headers, notes the execution it starts (see execution-replies.ts), sends an
 * acceptance notice when asked, waits until this node has applied the revisions the client has seen
 * (read-your-writes, for the store and for the modules bucket), runs the endpoint's work, and replies with the
 * revisions, or relays another node's reply as it came.
 * @module
 */
import type { AcceptanceNotices } from './acceptance-notices.js';
import type { ExecutionReplies } from './execution-replies.js';
import type { RequestEnded } from './request-ending.js';
import { awaitApplied, revisionIn } from './revision-headers.js';
import type { AppliedRevisions } from './revision-waiters.js';
import { RelayedReply, type ServiceEndpoint, type ServiceRequest } from './service-endpoint.js';
import type { TrackingStore } from './tracking-store.js';
import {
  ACCEPT_NOTICE_HEADER,
  MIN_MODULES_REVISION_HEADER,
  MIN_REVISION_HEADER,
  decodeRequest,
  encodeReply,
} from './wire.js';

/** What {@link createEndpointRequests} serves with. */
export interface EndpointRequestDeps {
  /** Its revisions are waited for (`Tether-Min-Revision`) and reported in each reply. */
  readonly store: TrackingStore;
  /** The modules bucket's revisions, waited for and reported alike; left out, neither. */
  readonly modules: AppliedRevisions | undefined;
  /** Largest request body. */
  readonly maxBytes: number;
  /** How long a request waits for a revision before `call_timeout`. */
  readonly waitMs: number;
  /** Told of each request that starts an execution, to keep its reply (see execution-replies.ts). */
  readonly replies: ExecutionReplies;
  /** Sends the acceptance notice of a request that asks for one. */
  readonly notices: AcceptanceNotices;
}

/**
 * Creates the function serving one request of an extra endpoint; it resolves to the reply bytes (or a relayed reply)
 * and rejects with what becomes the error reply.
 */
export function createEndpointRequests(
  deps: EndpointRequestDeps,
): (msg: ServiceRequest, endpoint: ServiceEndpoint, ended: RequestEnded) => Promise<Uint8Array | RelayedReply> {
  const { store, modules, maxBytes, waitMs, replies, notices } = deps;

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

  return serveEndpoint;
}
