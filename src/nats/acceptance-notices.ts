/**
 * The acceptance notices of a node (see `ACCEPT_NOTICE_HEADER`): a request that asked for one gets it at the end
 * of the event-loop turn in which the node took it, unless its reply has gone by then.
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
import { headers, type NatsConnection } from 'nats';
import { ACCEPTED_BY_HEADER, encodeAcceptance } from './wire.js';

/** A request whose caller waits for its reply on `reply` (a request without one gets no notice). */
export interface NoticeRequest {
  readonly reply?: string | undefined;
}

/** The notices one node owes. */
export interface AcceptanceNotices {
  /** The node took `request`: its notice leaves at the end of this turn unless {@link replied} comes first. */
  accepted(request: NoticeRequest): void;
  /** The reply to `request` is about to be sent: a notice it still owes is dropped (it would come too late). */
  replied(request: NoticeRequest): void;
}

/**
 * The notices of the node whose `tether` service instance is `nodeId`; `report` hears of a notice that could not
 * be published on an open connection.
 */
export function createAcceptanceNotices(
  connection: NatsConnection,
  nodeId: string,
  report: (error: unknown, where: string) => void,
): AcceptanceNotices {
  // Built once: every notice of this node is the same message.
  const body = encodeAcceptance(nodeId);
  const noticeHeaders = headers();
  noticeHeaders.set(ACCEPTED_BY_HEADER, nodeId);
  const owed = new Set<NoticeRequest>();
  let scheduled = false;

  // One callback per turn, however many requests the turn took.
  const sendOwed = (): void => {
    scheduled = false;
    if (connection.isClosed()) return owed.clear();
    for (const { reply } of owed) {
      try {
        connection.publish(reply as string, body, { headers: noticeHeaders });
      } catch (error) {
        report(error, `acceptance notice to ${reply}`);
      }
    }
    owed.clear();
  };

  return {
    accepted(request) {
      if (!request.reply) return;
      owed.add(request);
      if (scheduled) return;
      scheduled = true;
      setImmediate(sendOwed);
    },
    replied(request) {
      owed.delete(request);
    },
  };
}
