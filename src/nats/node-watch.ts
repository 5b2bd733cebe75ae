/**
 * The watch of the node that accepted a request: pinged every {@link NODE_PING_INTERVAL_MS} on its `$SRV.PING`
 * subject while the caller waits, and declared lost after {@link NODE_MISSED_PINGS} misses in a row, as a monitor on
 * a process of a node that goes down fires `:noconnection` in Elixir. Pings tell something about the node only while
 * the caller's own connection is up: while it is down they are not sent, one in flight as it drops does not count,
 * and after it is back the node gets a grace (it may have been cut off by the same outage, a NATS restart, and
 * reconnect on its own schedule). A ping that timed out counts only if the caller's own server then answers a ping of
 * its own: a server frozen (or a network path to it gone silent) keeps the connection open, as far as nats.js knows,
 * for its ping interval (minutes), while every node's ping times out alike.
 * @module
 */
import { Empty, ErrorCode, type NatsConnection, type NatsError } from 'nats';
import type { ConnectionLink } from './connection-link.js';
import { SERVICE_NAME } from './wire.js';

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

/**
 * Pings the node `nodeId` every {@link NODE_PING_INTERVAL_MS} until the returned function is called; calls
 * `lost` once it missed {@link NODE_MISSED_PINGS} in a row while `link` was up (see the module comment), and
 * `answered` after each ping the node answered.
 */
export function watchNode(
  connection: NatsConnection,
  nodeId: string,
  link: ConnectionLink,
  lost: () => void,
  answered?: () => void,
): () => void {
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
          if (!stopped) answered?.();
        },
        async (error: unknown) => {
          // This client's own connection dropped meanwhile: the ping says nothing of the node.
          if (link.down || link.drops !== drops) return;
          const code = (error as Partial<NatsError> | undefined)?.code;
          // No responders is the server's own answer; a timeout, only once the server shows it is there.
          if (code === ErrorCode.Timeout && !(await serverAnswers(connection))) return;
          if (code === ErrorCode.Timeout || code === ErrorCode.NoResponders) {
            if (performance.now() >= graceUntil && !link.down && link.drops === drops) missed += 1;
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

/** Whether the caller's own server answers a ping (a round trip, `rtt`) within {@link NODE_PING_TIMEOUT_MS}. */
async function serverAnswers(connection: NatsConnection): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), NODE_PING_TIMEOUT_MS)));
  try {
    return await Promise.race([
      connection.rtt().then(
        () => true,
        () => false,
      ),
      silent,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
