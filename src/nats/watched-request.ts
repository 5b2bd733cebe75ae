/**
 * A request whose taker is watched while the caller waits. The request asks for an acceptance notice
 * (`Tether-Accept-Notice`); the node that takes it publishes one to the reply subject, naming its instance of the
 * `tether` micro service, before the execution waits for anything (one that needs no wait gets its reply instead),
 * and from then on the caller pings that instance (see node-watch.ts). A node that stops answering ends the wait
 * within seconds instead of at the end of the request's timeout. Without a notice (a node that predates it) the
 * wait is a plain request's.
 *
 * The caller's own connection may drop meanwhile. The request goes on: the node may still reply. A reply published
 * while the caller was disconnected is lost (core NATS), so when the caller can ask (`askOutcome`), it asks the node
 * that accepted the request for it each time its connection is back (see lost-reply-recovery.ts): the node's kept
 * reply settles the request as the lost one would have, and a node that has no record of it ends the wait at once
 * (`unknown`). Until a node has announced itself (its notice may be lost in the same outage, and an execution done
 * in the turn that took it sends none), the caller asks every node instead: only one that has the execution
 * answers, with its reply, or with `running` and its name, and is watched from then on as if its notice had come.
 * Given a `census` (every node at once and each by name, execution-census.ts), it takes that instead, and not only
 * after a reconnect: a request no node has acknowledged seconds after it left is searched for (taker-search.ts), and
 * one that no live node has is over (`untaken`), rather than waited for to the end of its timeout.
 * A request whose wait saw its connection drop and that still got no reply by its deadline (its node
 * not known, or not answering the question) ends as `unanswered`, for the caller to blame its own connection.
 *
 * Any other request is sent the same way: a node that has not answered it within `LATE_NOTICE_MS` sends a late
 * notice, which starts the watch as well and says how long the node may still take (`Tether-Answer-Within`); a
 * caller that lets it (`waitAsNodeSays`) moves its deadline there.
 * @module
 */
import { ErrorCode, NatsError, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import { STEADY_LINK, type ConnectionLink } from './connection-link.js';
import type { CensusAnswer } from './execution-census.js';
import { NodeDidNotAnswer, recoverLostReply, type AskOutcome } from './lost-reply-recovery.js';
import { watchNode } from './node-watch.js';
import type { InboxSlot, ReplyInbox } from './reply-inbox.js';
import { publishRefusedError } from './permission-refusal.js';
import { droppedDuring, waitStart } from './request-failure.js';
import { searchForTaker } from './taker-search.js';
import { ACCEPTED_BY_HEADER, ACCEPT_NOTICE_HEADER, ANSWER_WITHIN_HEADER, NODE_ID } from './wire.js';
import { DEADLINE_HEADER, deadlineHeader } from './request-deadline.js';
import { onAbort } from '../modules/signal-listeners.js';

// The watch's figures moved to node-watch.ts; they stay importable from here, where they were first.
export {
  NODE_MISSED_PINGS,
  NODE_PING_INTERVAL_MS,
  NODE_PING_TIMEOUT_MS,
  NODE_RECONNECT_GRACE_MS,
} from './node-watch.js';
export type { ConnectionLink } from './connection-link.js';

/** How a watched request ended, short of the NATS failures it rejects with. */
export type WatchedOutcome =
  | { readonly kind: 'reply'; readonly reply: Msg }
  | { readonly kind: 'lost'; readonly nodeId: string }
  | { readonly kind: 'aborted' }
  /** The node that accepted it, asked after a reconnect, has no record of it (see lost-reply-recovery.ts). */
  | { readonly kind: 'unknown'; readonly nodeId: string }
  /** No node ever acknowledged it, and no live node has a record of it (see taker-search.ts); `nodes` were asked. */
  | { readonly kind: 'untaken'; readonly nodes: readonly string[] }
  /** No reply by the deadline, and the caller's connection dropped during the wait; `down`: it still is. */
  | { readonly kind: 'unanswered'; readonly down: boolean }
  /**
   * The request was never sent: the caller's connection was down from the call to the deadline, or closed for good
   * before it was back.
   */
  | { readonly kind: 'unsent' };

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
  /**
   * Asks the node that accepted the request (every node, before one did) what became of it, after a reconnect;
   * without it, nobody asks.
   */
  readonly askOutcome?: AskOutcome | undefined;
  /**
   * Asks every node, at once and one by one, what became of the request's execution (execution-census.ts): with it, a
   * request no node acknowledged is searched for (taker-search.ts), not only asked of every node after a reconnect.
   * Given the deadline the request went out with (ms since 1970), for a census that may settle the search.
   */
  readonly census?: ((deadline: number | undefined) => Promise<CensusAnswer>) | undefined;
  /**
   * A late notice (one with `Tether-Answer-Within`: the node is still at it, riding through an election, say) moves
   * the deadline to when that node will have answered at the latest, plus {@link LATE_ANSWER_MARGIN_MS}, if that is
   * later. Without it the deadline stays `timeoutMs`.
   */
  readonly waitAsNodeSays?: boolean;
  /** Told the request's whole timeout, from its sending, each time a late notice moves it (see `waitAsNodeSays`). */
  readonly onDeadlineMoved?: (timeoutMs: number) => void;
}

/** Added to a late notice's `Tether-Answer-Within`: the answer still has to travel here. */
export const LATE_ANSWER_MARGIN_MS = 2000;

/** The longest a timer waits. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Publishes `data` to `subject` with a reply subject of `inbox` and waits for the reply, watching the node that
 * accepts the request. Rejects with nats.js's `NatsError` where `connection.request` would: `503` (no node
 * subscribes), `TIMEOUT`, `CONNECTION_CLOSED` (the client closed meanwhile), `PERMISSIONS_VIOLATION` (the server
 * refused the publish, or the reply inbox's subscription), or what `publish` throws (`MAX_PAYLOAD_EXCEEDED`).
 * Whatever ends the wait leaves the inbox and clears the timers. It settles once: a reply that arrives after the
 * node's kept copy settled it (or the other way round) is dropped.
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
  const { signal, askOutcome } = options;
  const link = options.link ?? STEADY_LINK;
  // Taken again when a request held while the connection was down is sent: only a drop after that can lose a reply.
  let start = waitStart(link);
  if (signal?.aborted) return Promise.resolve({ kind: 'aborted' });
  return new Promise<WatchedOutcome>((resolve, reject) => {
    let settled = false;
    let unwatch: (() => void) | undefined;
    let unrecover: (() => void) | undefined;
    /** Stops waiting for the connection to be back before sending (see `send`). */
    let unhold: (() => void) | undefined;
    /** Stops listening for the server's refusal of the publish (see `send`). */
    let unrefused: (() => void) | undefined;
    /** Stops listening for the caller's signal, which other executions may share (see signal-listeners.ts). */
    let offAbort: (() => void) | undefined;
    let sent = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      unhold?.();
      unrefused?.();
      unwatch?.();
      unrecover?.();
      offAbort?.();
      slot.close();
      settle();
    };
    /** `owed`: a question to the node went unanswered already; it is asked again once the node answers a ping. */
    const accepted = (nodeId: string, owed = false): void => {
      // Ended meanwhile (an every-node question answered after the wait was over): nothing is left to watch.
      if (settled) return;
      // The questions to every node end: this node is the one to ask.
      unrecover?.();
      const recovery =
        askOutcome &&
        recoverLostReply(
          link,
          () => askOutcome(nodeId),
          (answer) =>
            finish(() =>
              resolve(
                answer.kind === 'finished' ? { kind: 'reply', reply: answer.reply } : { kind: 'unknown', nodeId },
              ),
            ),
          owed,
        );
      unrecover = recovery?.stop;
      // A node that answers a ping again after an outage longer than the recovery's grace is asked then.
      unwatch = watchNode(
        connection,
        nodeId,
        link,
        () => finish(() => resolve({ kind: 'lost', nodeId })),
        recovery?.nodeAnswered,
      );
    };

    let slot: InboxSlot;
    try {
      slot = inbox.open({
        deliver(msg) {
          const acceptedBy = msg.headers?.get(ACCEPTED_BY_HEADER);
          if (acceptedBy) {
            if (!unwatch && NODE_ID.test(acceptedBy)) accepted(acceptedBy);
            if (options.waitAsNodeSays) waitLonger(msg.headers?.get(ANSWER_WITHIN_HEADER));
            return;
          }
          // The server's own answer when nothing subscribes to the subject: an empty message with status 503.
          if (msg.data.length === 0 && msg.headers?.code === 503)
            return finish(() => reject(NatsError.errorForCode(ErrorCode.NoResponders)));
          finish(() => resolve({ kind: 'reply', reply: msg }));
        },
        // Closed for good while the request waited for the connection to be back: it never left.
        ended: (error) => finish(() => (sent ? reject(error) : resolve({ kind: 'unsent' }))),
      });
    } catch (error) {
      reject(error);
      return;
    }
    const expire = (): void => {
      if (!sent) finish(() => resolve({ kind: 'unsent' }));
      else if (droppedDuring(link, start)) finish(() => resolve({ kind: 'unanswered', down: link.down }));
      else finish(() => reject(NatsError.errorForCode(ErrorCode.Timeout)));
    };
    const sentAt = performance.now();
    let endsAt = sentAt + options.timeoutMs;
    let deadline = setTimeout(expire, options.timeoutMs);
    const waitLonger = (answerWithin: string | undefined): void => {
      // Digits only: anything else is no promise to wait on.
      if (settled || !answerWithin || !/^\d{1,15}$/.test(answerWithin)) return;
      const ms = Math.min(Number(answerWithin) + LATE_ANSWER_MARGIN_MS, MAX_TIMER_MS);
      const now = performance.now();
      if (now + ms <= endsAt) return;
      clearTimeout(deadline);
      endsAt = now + ms;
      deadline = setTimeout(expire, ms);
      options.onDeadlineMoved?.(Math.round(endsAt - sentAt));
    };
    /** The deadline the request went out with (ms since 1970): a census the caller may conclude from names it. */
    let sentDeadline = 0;
    /** From when the request is out: a reconnect before it was sent lost no reply, and nothing is asked for it. */
    const recoverFromEveryNode = (): void => {
      const { census } = options;
      if (census) {
        unrecover = searchForTaker(link, (mayConclude) => census(mayConclude ? sentDeadline : undefined), {
          // The node that has it in hand is watched from now on, as after its notice.
          running: (nodeId) => {
            if (!unwatch && NODE_ID.test(nodeId)) accepted(nodeId);
          },
          settle: (answer) =>
            finish(() =>
              resolve(
                answer.kind === 'finished'
                  ? { kind: 'reply', reply: answer.reply }
                  : { kind: 'untaken', nodes: answer.nodes },
              ),
            ),
        }).stop;
        return;
      }
      if (!askOutcome) return;
      const everyNode = recoverLostReply(
        link,
        async () => {
          let answer;
          try {
            answer = await askOutcome(undefined);
          } catch (error) {
            // The one node found otherwise gave no answer: it may be coming back, or gone. Watched from now on, as
            // after its notice: its pings tell which, and it is asked again once it answers one.
            if (error instanceof NodeDidNotAnswer && !unwatch && NODE_ID.test(error.nodeId))
              accepted(error.nodeId, true);
            throw error;
          }
          // The node that has it in hand names itself: it is watched from now on, as after its notice.
          if (answer.kind === 'running' && answer.nodeId && !unwatch && NODE_ID.test(answer.nodeId))
            accepted(answer.nodeId);
          return answer;
        },
        // Only a node that has it answers every node's question: an `unknown` naming no node is no answer to wait
        // on. One naming its node came from a node the caller found otherwise (the owner a relaying node knows from
        // its module's claim), asked by name: the one node that would have it has no record of it.
        (answer) => {
          if (answer.kind === 'finished') finish(() => resolve({ kind: 'reply', reply: answer.reply }));
          else if (answer.nodeId !== undefined) {
            const { nodeId } = answer;
            finish(() => resolve({ kind: 'unknown', nodeId }));
          }
        },
      );
      unrecover = everyNode.stop;
    };
    if (signal) offAbort = onAbort(signal, () => finish(() => resolve({ kind: 'aborted' })));

    options.headers.set(ACCEPT_NOTICE_HEADER, '1');
    const send = (): void => {
      sent = true;
      start = waitStart(link);
      // Set as it leaves: a request held while the connection was down has less of its wait left.
      const header = deadlineHeader(endsAt - performance.now(), options.timeoutMs);
      options.headers.set(DEADLINE_HEADER, header);
      sentDeadline = Number(header.slice(0, header.indexOf('/')));
      recoverFromEveryNode();
      // The server drops a publish its permissions refuse this connection, and says so only as a connection status:
      // without this the request would wait for its deadline, and then say its outcome is unknown.
      unrefused = link.onPublishRefused((refusal) => {
        if (refusal.subject === subject) finish(() => reject(publishRefusedError(subject)));
      });
      try {
        connection.publish(subject, data, { reply: slot.subject, headers: options.headers });
      } catch (error) {
        finish(() => reject(error));
      }
    };
    // nats.js drops what is published while the connection is down (its output is reset as it dials again): a
    // request made then would be lost unseen, and waited for to its deadline. It waits for the connection instead,
    // sent once it is back (its reply subscription with it), within the same deadline.
    if (!link.down) return send();
    unhold = link.onChange((change) => {
      if (change !== 'reconnected') return;
      unhold?.();
      unhold = undefined;
      send();
    });
  });
}
