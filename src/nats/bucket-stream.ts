/**
 * Reads of a KV bucket's stream that the KV API does not offer: its last revision, and the next message it still
 * holds after a revision (of any key, or of keys under a prefix). Both are asked of the stream's leader (stream info and a message get, not a direct get a
 * lagging replica may answer), which holds every acknowledged write.
 * @module
 */
import type { KvEntry, NatsConnection, StoredMsg } from 'nats';
import { InternalError } from '../errors.js';
import { kvStream } from './kv-bucket.js';
import { StoredKvEntry } from './stored-kv-entry.js';

/** The last sequence of the KV bucket's stream: the store's latest revision. */
export async function bucketLastRevision(connection: NatsConnection, bucket: string): Promise<number> {
  try {
    // No account info check first: the stream info request alone tells whether JetStream answers, in one round
    // trip (this also runs on a request's read-your-writes wait, see tracking-store.ts).
    const manager = await connection.jetstreamManager({ checkAPI: false });
    const info = await manager.streams.info(kvStream(bucket));
    return info.state.last_seq;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InternalError(`cannot read the last revision of bucket '${bucket}': ${message}`, {
      cause: error,
      details: { bucket },
    });
  }
}

/**
 * The first message after `after`, of a key starting with `keyPrefix` (every key: `''`), that the bucket's stream
 * still holds; `undefined` when it holds none.
 */
async function bucketNextMessage(
  connection: NatsConnection,
  bucket: string,
  after: number,
  keyPrefix: string,
): Promise<StoredMsg | undefined> {
  const manager = await connection.jetstreamManager({ checkAPI: false });
  // `next_by_subj` (server 2.9+) is not in nats.js's type of a message get; the request passes it on as given.
  const query = { seq: after + 1, next_by_subj: `$KV.${bucket}.${keyPrefix}>` } as unknown as { seq: number };
  try {
    return await manager.streams.getMessage(kvStream(bucket), query);
  } catch (error) {
    if ((error as { code?: unknown }).code === '404') return undefined;
    throw error;
  }
}

/**
 * The revision of the first message after `after`, of a key starting with `keyPrefix` (every key: `''`), that the
 * bucket's stream still holds; `undefined` when it holds none.
 */
export async function bucketNextKept(
  connection: NatsConnection,
  bucket: string,
  after: number,
  keyPrefix = '',
): Promise<number | undefined> {
  return (await bucketNextMessage(connection, bucket, after, keyPrefix))?.seq;
}

/** {@link bucketNextKept}'s message, as the entry a watch of the bucket would deliver. */
export async function bucketNextEntry(
  connection: NatsConnection,
  bucket: string,
  after: number,
  keyPrefix: string,
): Promise<KvEntry | undefined> {
  const message = await bucketNextMessage(connection, bucket, after, keyPrefix);
  return message && new StoredKvEntry(bucket, message);
}
