/**
 * Whether nodes are alive, asked the way the server knows: each node's instance of the `tether` micro service
 * answers `$SRV.PING.tether.<id>` for as long as its connection lives, and once the server has dropped that
 * connection (the node stopped, crashed, or was cut off from NATS) nothing subscribes there and the server says so
 * at once (no responders). A module that stays on its node names that node in its claim (see module-records.ts),
 * so a listing of many such modules asks each node once, not each module.
 * @module
 */
import { Empty, ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { NODE_ID, SERVICE_NAME } from './wire.js';

/**
 * How long a node may take to answer a ping: short, as it bounds a `module list` whose claims name a stalled node
 * (one whose connection the server still holds but which answers nothing).
 */
export const NODE_PING_WAIT_MS = 1_000;

/**
 * How a node answered: `answered` (alive), `gone` (no responders: the server knows no such node, or the id is not
 * one a node can have), or `silent` (no answer within the wait, or the ping could not be sent: unknown).
 */
export type NodeAnswer = 'answered' | 'gone' | 'silent';

/** Pings of nodes by their service instance id. */
export interface NodePings {
  /** Pings each of `nodeIds` once, all together; resolves within {@link NODE_PING_WAIT_MS} to how each answered. */
  ping(nodeIds: Iterable<string>): Promise<ReadonlyMap<string, NodeAnswer>>;
}

/**
 * Node pings on `connection`.
 * @example
 * const answers = await createNodePings(nc).ping(['Hq3cAFZ6r9Cv2tV0rPaN7A']);
 */
export function createNodePings(connection: NatsConnection, waitMs = NODE_PING_WAIT_MS): NodePings {
  const pingOne = async (nodeId: string): Promise<NodeAnswer> => {
    if (!NODE_ID.test(nodeId)) return 'gone';
    try {
      await connection.request(`$SRV.PING.${SERVICE_NAME}.${nodeId}`, Empty, { timeout: waitMs });
      return 'answered';
    } catch (error) {
      return (error as Partial<NatsError> | undefined)?.code === ErrorCode.NoResponders ? 'gone' : 'silent';
    }
  };
  return {
    async ping(nodeIds) {
      const ids = [...new Set(nodeIds)];
      const answers = await Promise.all(ids.map(pingOne));
      return new Map(ids.map((id, i) => [id, answers[i]!]));
    },
  };
}
