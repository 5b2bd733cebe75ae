/**
 * Reads of a KV bucket's stream that the KV API does not offer: its last revision, and the next message it still
 * holds after a revision (of any key, or of keys under a prefix). Both are asked of the stream's leader (stream info and a message get, not a direct get a
 * lagging replica may answer), which holds every acknowledged write.
 * @module
 */
import type { JetStreamManager, KvEntry, NatsConnection, StoredMsg } from 'nats';
import { InternalError } from '../errors.js';
import { kvStream } from './kv-bucket.js';
import { isNoMessageFound } from './jetstream-api-error.js';
import { StoredKvEntry } from './stored-kv-entry.js';
import { messageOf } from '../printable.js';

/**
 * How far the servers' clocks may be behind this node's: messages are judged old enough to remove by the time the
 * stream stamped them, against this node's clock.
 */
export const CLOCK_SKEW_MS = 60_000;

/** Whether a JetStream API error of a message get says the message asked for is not there. */
const missing = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === '404' || isNoMessageFound(error);

/** The last sequence of the KV bucket's stream: the store's latest revision. */
export async function bucketLastRevision(connection: NatsConnection, bucket: string): Promise<number> {
  try {
    // No account info check first: the stream info request alone tells whether JetStream answers, in one round
    // trip (this also runs on a request's read-your-writes wait, see tracking-store.ts).
    const manager = await connection.jetstreamManager({ checkAPI: false });
    const info = await manager.streams.info(kvStream(bucket));
    return info.state.last_seq;
  } catch (error) {
    const message = messageOf(error);
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
  return firstMessageFrom(manager, kvStream(bucket), `$KV.${bucket}.${keyPrefix}>`, after + 1);
}

/** The stream's first message on `subjectFilter` at or after sequence `seq`; `undefined` when it holds none. */
async function firstMessageFrom(
  manager: JetStreamManager,
  stream: string,
  subjectFilter: string,
  seq: number,
): Promise<StoredMsg | undefined> {
  // `next_by_subj` (server 2.9+) is not in nats.js's type of a message get; the request passes it on as given.
  const query = { seq, next_by_subj: subjectFilter } as unknown as { seq: number };
  try {
    return await manager.streams.getMessage(stream, query);
  } catch (error) {
    if (missing(error)) return undefined;
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

/** What {@link removeMessagesUpTo} did. */
export interface MessagesRemoved {
  readonly removed: number;
  /** Messages it passed by because they were written after `writtenBy` (none without it). */
  readonly kept: number;
}

/**
 * Removes every message on `subjectFilter` up to sequence `upTo` from `stream`, with a message delete each; with
 * `writtenBy` (ms since the epoch), only those the stream took by then, counting the others as kept. A message
 * already gone is passed by, so running it again is harmless; one the stream refuses to delete is not.
 *
 * Not a stream purge by subject, which does it in one request: on nats-server 2.9.10 such a purge moves every
 * consumer of the stream that is behind past messages it never sent (kv-watch.ts), and a follower that restarts
 * replays it as a purge of the whole stream below that sequence (nats-server#4196), losing every other key's
 * messages there. Message deletes are not safe on a replicated stream either while they are recent: a follower
 * that restarts applies recent writes again, and a compare-and-set write among them that expected a deleted
 * message fails there only, so that copy comes back out of step with its peers (server-defects.ts; a server-only
 * reproduction: R3, compare-and-set writes, each seventh write deleted at once, a follower killed and restarted;
 * the replicas disagreed in every run, and agreed in every run where only writes at least 3 s old were deleted).
 * Callers pass `writtenBy` on such streams.
 * @throws {InternalError} naming the stream and the sequence when the stream refuses a delete and still holds the
 *   message (one made with `deny_delete`, as every bucket `nats kv add` makes; or a server failing to write)
 */
export async function removeMessagesUpTo(
  manager: JetStreamManager,
  stream: string,
  subjectFilter: string,
  upTo: number,
  writtenBy?: number,
): Promise<MessagesRemoved> {
  let removed = 0;
  let kept = 0;
  for (let from = 1; from <= upTo;) {
    const message = await firstMessageFrom(manager, stream, subjectFilter, from);
    if (message === undefined || message.seq > upTo) break;
    from = message.seq + 1;
    if (writtenBy !== undefined && message.time.getTime() > writtenBy) {
      kept += 1;
      continue;
    }
    try {
      if (await manager.streams.deleteMessage(stream, message.seq, false)) removed += 1;
    } catch (error) {
      await assertGone(manager, stream, subjectFilter, message.seq, error);
    }
  }
  return { removed, kept };
}

/**
 * Passes by a delete that failed because the message is gone (removed meanwhile, or past the stream's first); throws
 * when the stream still holds it. Asked of the stream rather than read from the error: JetStream answers a delete
 * it refuses (`deny_delete`: "message delete not permitted") with the same code, 10057, as one of a message already
 * gone ("no message found"), and the wording of its descriptions is no contract.
 */
async function assertGone(
  manager: JetStreamManager,
  stream: string,
  subjectFilter: string,
  seq: number,
  refusal: unknown,
): Promise<void> {
  if ((await firstMessageFrom(manager, stream, subjectFilter, seq))?.seq !== seq) return;
  throw new InternalError(`stream '${stream}' refused to delete its message ${seq}: ${messageOf(refusal)}`, {
    cause: refusal,
    details: { stream, seq },
  });
}
