/**
 * What a session leaves in JetStream, read as any NATS tool reads it: the messages each bucket's stream holds for
 * its keys (its variables, its module specs) and for its record.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { TestBuckets } from './tether-node.js';

/** Messages kept for the session in each bucket's stream, markers included. */
export async function storedOfSession(
  connection: NatsConnection,
  buckets: TestBuckets,
  sessionId: string,
): Promise<{ variables: number; modules: number; record: number }> {
  const manager = await connection.jetstreamManager();
  const count = async (bucket: string, filter: string): Promise<number> => {
    const info = await manager.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.${filter}` });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  };
  return {
    variables: await count(buckets.variablesBucket, `${sessionId}.>`),
    modules: await count(buckets.modulesBucket, `${sessionId}.>`),
    record: await count(buckets.sessionsBucket, sessionId),
  };
}
