/**
 * The acceptance notices of a node (see `ACCEPT_NOTICE_HEADER`): an execution that asked for one gets it at the end
 * of the event-loop turn in which the node took it, unless its reply has gone by then; any other request that asked
 * gets a late one, only if still unanswered after `LATE_NOTICE_MS`, saying how long the node may yet take.
 *
 * The notice lets a caller watch the node while an execution waits for something (a provider's answer, a place
 * in the mailbox), and any wait outlasts the turn that took the request, so every such execution still announces
 * itself before it waits. An execution that completes in that same turn (the offline model) needs no watching: its
 * reply is the next thing the caller hears. Sent at once instead, the notice cost every such execution a socket
 * write of its own in mid-execution, and the wake-ups of the server and of the caller while the node was still
 * busy: 120–160 µs of a ~1,000 µs remote execute on two cores (bench (b), interleaved with the code before),
 * some eight times what the publish itself costs.
 *
 * What the caller can miss is unchanged in kind: a node that dies before its notice has left is not watched, as
 * before; the notice leaves at the end of the turn rather than at the first microtask checkpoint of it.
 * @module
 */
import { headers, type MsgHdrs, type NatsConnection } from 'nats';
import type { HeldOutput } from './held-output.js';
import { ACCEPTED_BY_HEADER, ANSWER_WITHIN_HEADER, LATE_NOTICE_MS, encodeAcceptance } from './wire.js';

/** A request whose caller waits for its reply on `reply` (a request without one gets no notice). */
export interface NoticeRequest {
  readonly reply?: string | undefined;
}

/** The notices one node owes. */
export interface AcceptanceNotices {
  /** The node took `request`: its notice leaves at the end of this turn unless {@link replied} comes first. */
  accepted(request: NoticeRequest): void;
  /**
   * The node took `request`, which may be answered at once or wait: its notice leaves after `LATE_NOTICE_MS`
   * unless {@link replied} or {@link accepted} comes first.
   */
  taken(request: NoticeRequest): void;
  /** The reply to `request` is about to be sent: a notice it still owes is dropped (it would come too late). */
  replied(request: NoticeRequest): void;
}

/**
 * The notices of the node whose `tether` service instance is `nodeId`, which expects to answer every request within
 * `answerWithinMs` of taking it; `report` hears of a notice that could not be published on an open connection.
 */
export function createAcceptanceNotices(
  connection: NatsConnection,
  nodeId: string,
  answerWithinMs: number,
  report: (error: unknown, where: string) => void,
  output: HeldOutput,
): AcceptanceNotices {
  // Built once: every notice of this node is the same message.
  const body = encodeAcceptance(nodeId);
  const noticeHeaders = headers();
  noticeHeaders.set(ACCEPTED_BY_HEADER, nodeId);
  const owed = new Set<NoticeRequest>();
  let scheduled = false;
  // When each request that may get a late notice was taken (`performance.now()`: a wall-clock step must not move
  // notices). A Map keeps insertion order, so the first entry is always the next one due: one timer serves them all.
  const late = new Map<NoticeRequest, number>();
  let lateTimer: ReturnType<typeof setTimeout> | undefined;

  /** `noticeWith` builds the headers as the notice leaves: a late one held through an outage says what is left then. */
  const publish = (reply: string, noticeWith: () => MsgHdrs): void => {
    // Held while the connection is down, as replies are: a caller that misses it is left unwatched. One held that
    // fails once sent throws to the held output, which tells it with the others it lost (see held-output.ts).
    try {
      output.send(() => connection.publish(reply, body, { headers: noticeWith() }), body.byteLength);
    } catch (error) {
      report(error, `acceptance notice to ${reply}`);
    }
  };

  // One callback per turn, however many requests the turn took.
  const sendOwed = (): void => {
    scheduled = false;
    if (connection.isClosed()) return owed.clear();
    for (const { reply } of owed) publish(reply as string, () => noticeHeaders);
    owed.clear();
  };

  const sendLate = (): void => {
    lateTimer = undefined;
    const now = performance.now();
    for (const [request, takenAt] of late) {
      const due = takenAt + LATE_NOTICE_MS;
      if (due > now) {
        lateTimer = setTimeout(sendLate, due - now).unref();
        return;
      }
      late.delete(request);
      if (connection.isClosed()) continue;
      publish(request.reply as string, () => {
        const lateHeaders = headers();
        lateHeaders.set(ACCEPTED_BY_HEADER, nodeId);
        const left = takenAt + answerWithinMs - performance.now();
        lateHeaders.set(ANSWER_WITHIN_HEADER, String(Math.max(0, Math.round(left))));
        return lateHeaders;
      });
    }
  };

  return {
    accepted(request) {
      if (!request.reply) return;
      late.delete(request);
      owed.add(request);
      if (scheduled) return;
      scheduled = true;
      setImmediate(sendOwed);
    },
    taken(request) {
      if (!request.reply) return;
      late.set(request, performance.now());
      // Unreferenced: a process with nothing else left to do has no caller left to tell.
      lateTimer ??= setTimeout(sendLate, LATE_NOTICE_MS).unref();
    },
    replied(request) {
      owed.delete(request);
      late.delete(request);
    },
  };
}
