/**
 * A request whose taker is watched while the caller waits. The request asks for an acceptance notice
 * (`Tether-Accept-Notice`); the node that takes it publishes one to the reply subject, naming its instance of the
 * `tether` micro service, before the execution waits for anything (one that needs no wait gets its reply instead),
 * and from then on the caller pings that instance. A node that stops answering ends the
 * wait within seconds, as a monitor on a process of a node that goes down fires `:noconnection` in Elixir,
 * instead of at the end of the request's timeout. Without a notice (a node that predates it) the wait is a plain
 * request's.
 *
 * Pings tell something about the node only while the caller's own connection is up: while it is down they are not
 * sent, one in flight as it drops does not count, and after it is back the node gets a grace (it may have been cut
 * off by the same outage, a NATS restart, and reconnect on its own schedule). The request goes on meanwhile: the
 * node may still reply. But a reply published while the caller was disconnected is lost (core NATS), and nothing
 * asks a node for an execution's outcome again; so a request whose wait saw its connection drop and that gets no
 * reply by its deadline ends as `unanswered`, for the caller to blame its own connection, not the node.
 * @module
 */
import { Empty, ErrorCode, NatsError, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import type { InboxSlot, ReplyInbox } from './reply-inbox.js';
import { ACCEPTED_BY_HEADER, ACCEPT_NOTICE_HEADER, SERVICE_NAME } from './wire.js';

/**
 * How often the caller pings the node that took its request, counted from the end of the previous ping. Pings
 * are tiny and answered from the node's event loop, so every 2 s costs nothing worth measuring, yet a killed node
 * is noticed within seconds: its connection's end removes its subscriptions, and the next ping has no responders.
 */
export const NODE_PING_INTERVAL_MS = 2_000;

/**
 * How long one ping waits. Generous on a LAN (a ping takes well under a millisecond), so only a node (or a
 * network) that is gone, or an event loop stalled for seconds, misses one.
 */
export const NODE_PING_TIMEOUT_MS = 2_000;

/**
 * Pings missed in a row (timed out, or no responders) before the node counts as lost: one miss may be a node
 * whose connection is moving to another server of the cluster (it is briefly unsubscribed, and its reply is
 * buffered and still arrives), two are not. A killed node is thus noticed after 2–4 s, a silent machine after 6–8 s.
 */
export const NODE_MISSED_PINGS = 2;

/**
 * How long after the caller's connection is back its pings' misses do not count: a node cut off by the same outage
 * (a NATS restart) reconnects on its own schedule, every 2 s by default, and answers no ping until it has.
 */
export const NODE_RECONNECT_GRACE_MS = 6_000;

/** What a watched request knows of its own connection (the remote transport keeps it from the status events). */
export interface ConnectionLink {
  /** Whether the connection dropped and is not back yet. */
  readonly down: boolean;
  /** How many times it dropped so far: a wait that saw one more may have lost what was published to it meanwhile. */
  readonly drops: number;
}

/** How a watched request ended, short of the NATS failures it rejects with. */
export type WatchedOutcome =
  | { readonly kind: 'reply'; readonly reply: Msg }
  | { readonly kind: 'lost'; readonly nodeId: string }
  | { readonly kind: 'aborted' }
  /** No reply by the deadline, and the caller's connection dropped during the wait; `down`: it still is. */
  | { readonly kind: 'unanswered'; readonly down: boolean };

/** Options of {@link watchedRequest}. */
export interface WatchedRequestOptions {
  /** The request's headers; the acceptance notice header is added. */
  readonly headers: MsgHdrs;
  /** How long to wait for the reply, watched or not. */
  readonly timeoutMs: number;
  /** Ends the wait at once (outcome `aborted`); the caller tells the node. */
  readonly signal?: AbortSignal | undefined;
  /** The connection's state; without it, every missed ping counts and a wait's end is always a `TIMEOUT`. */
  readonly link?: ConnectionLink | undefined;
}

/** Micro instance ids are NUIDs; anything else in a notice is not used as a subject token. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Publishes `data` to `subject` with a reply subject of `inbox` and waits for the reply, watching the node that
 * accepts the request. Rejects with nats.js's `NatsError` where `connection.request` would: `503` (no node
 * subscribes), `TIMEOUT`, `CONNECTION_CLOSED` (the client closed meanwhile), or what `publish` throws
 * (`MAX_PAYLOAD_EXCEEDED`). Whatever ends the wait leaves the inbox and clears the timers.
 * @example
 * const outcome = await watchedRequest(nc, new ReplyInbox(nc), subject, body, { headers: headers(), timeoutMs: 122_000 });
 * if (outcome.kind === 'lost') console.log(`node ${outcome.nodeId} is gone`);
 */
export function watchedRequest(
  connection: NatsConnection,
  inbox: ReplyInbox,
  subject: string,
  data: Uint8Array,
  options: WatchedRequestOptions,
): Promise<WatchedOutcome> {
  const { signal } = options;
  const link = options.link ?? { down: false, drops: 0 };
  const dropsBefore = link.drops;
  if (signal?.aborted) return Promise.resolve({ kind: 'aborted' });
  return new Promise<WatchedOutcome>((resolve, reject) => {
    let settled = false;
    let unwatch: (() => void) | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      unwatch?.();
      signal?.removeEventListener('abort', onAbort);
      slot.close();
      settle();
    };

    let slot: InboxSlot;
    try {
      slot = inbox.open({
        deliver(msg) {
          const acceptedBy = msg.headers?.get(ACCEPTED_BY_HEADER);
          if (acceptedBy) {
            if (!unwatch && NODE_ID.test(acceptedBy))
              unwatch = watchNode(connection, acceptedBy, link, () =>
                finish(() => resolve({ kind: 'lost', nodeId: acceptedBy })),
              );
            return;
          }
          // The server's own answer when nothing subscribes to the subject: an empty message with status 503.
          if (msg.data.length === 0 && msg.headers?.code === 503)
            return finish(() => reject(NatsError.errorForCode(ErrorCode.NoResponders)));
          finish(() => resolve({ kind: 'reply', reply: msg }));
        },
        ended: (error) => finish(() => reject(error)),
      });
    } catch (error) {
      reject(error);
      return;
    }
    const deadline = setTimeout(() => {
      if (link.down || link.drops !== dropsBefore) finish(() => resolve({ kind: 'unanswered', down: link.down }));
      else finish(() => reject(NatsError.errorForCode(ErrorCode.Timeout)));
    }, options.timeoutMs);
    const onAbort = (): void => finish(() => resolve({ kind: 'aborted' }));
    signal?.addEventListener('abort', onAbort, { once: true });

    options.headers.set(ACCEPT_NOTICE_HEADER, '1');
    try {
      connection.publish(subject, data, { reply: slot.subject, headers: options.headers });
    } catch (error) {
      finish(() => reject(error));
    }
  });
}

/**
 * Pings the node `nodeId` every {@link NODE_PING_INTERVAL_MS} until the returned function is called; calls
 * `lost` once it missed {@link NODE_MISSED_PINGS} in a row while `link` was up (see the module comment).
 */
function watchNode(connection: NatsConnection, nodeId: string, link: ConnectionLink, lost: () => void): () => void {
  let missed = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drops = link.drops;
  let graceUntil = 0;
  const ping = (): void => {
    // Down: a ping could only time out, which says nothing of the node.
    if (link.down) {
      timer = setTimeout(ping, NODE_PING_INTERVAL_MS);
      return;
    }
    if (link.drops !== drops) {
      drops = link.drops;
      missed = 0;
      graceUntil = performance.now() + NODE_RECONNECT_GRACE_MS;
    }
    connection
      .request(`$SRV.PING.${SERVICE_NAME}.${nodeId}`, Empty, { timeout: NODE_PING_TIMEOUT_MS })
      .then(
        () => {
          missed = 0;
        },
        (error: unknown) => {
          // This client's own connection dropped meanwhile: the ping says nothing of the node.
          if (link.down || link.drops !== drops) return;
          const code = (error as Partial<NatsError> | undefined)?.code;
          if (code === ErrorCode.Timeout || code === ErrorCode.NoResponders) {
            if (performance.now() >= graceUntil) missed += 1;
          }
          // Anything else says nothing about the node: permissions that refuse this client `$SRV` subjects (it
          // then waits for the reply as a plain request does), or its own connection closing.
          else stopped = true;
        },
      )
      .finally(() => {
        if (stopped) return;
        if (missed < NODE_MISSED_PINGS) timer = setTimeout(ping, NODE_PING_INTERVAL_MS);
        else lost();
      });
  };
  timer = setTimeout(ping, NODE_PING_INTERVAL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
