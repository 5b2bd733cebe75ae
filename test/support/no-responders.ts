/**
 * Whether nothing subscribes to a subject any more, as a test waiting for the server to drop a node's
 * subscriptions (its connection cut, say) asks it.
 * @module
 */
import { Empty, ErrorCode, NatsError, type NatsConnection } from 'nats';

/** Whether a request to `subject` on `nc` finds no responder (rather than an answer, or none in 2 s). */
export async function noResponders(nc: NatsConnection, subject: string): Promise<boolean> {
  try {
    await nc.request(subject, Empty, { timeout: 2000 });
    return false;
  } catch (error) {
    return error instanceof NatsError && error.code === ErrorCode.NoResponders;
  }
}
