/**
 * A key's history in a KV bucket, read with stream message gets instead of a consumer: on server 2.9 a consumer
 * filtered on one key can block after deletes (nats-server#3481), like the listing consumers `list()` dropped.
 * The get `{ seq, next_by_subj }` answers the key's first message at or after `seq` (sequences below the stream's
 * first are fine), so the walk is one get per kept message (at most the bucket's `history`, 64) plus the final
 * "no message found"; a key never written costs that one get.
 *
 * The walk is no snapshot: a write that lands while it goes on may push out of the key's history a message the walk
 * has not reached yet (a hole between what it read before and after), and is read itself (one entry more than the
 * key keeps). The store keeps the newest entries the history depth allows; the session keeps the unbroken run of
 * versions at the end (variable-history.ts).
 * @module
 */
import { InternalError } from '../errors.js';
import { kvStream, kvSubject, type KvBucket } from './kv-bucket.js';
import { isNoMessageFound } from './jetstream-api-error.js';
import { updatedByIn } from './kv-updated-by.js';

/** One kept message of a key, oldest first: a put or a delete/purge marker. */
export interface KvHistoryEntry {
  /** The stream sequence. */
  readonly revision: number;
  /** The `KV-Operation` header, `'PUT'` when absent (as nats.js reads it): `'PUT'`, `'DEL'` or `'PURGE'`. */
  readonly operation: string;
  /** The stored bytes; empty for a marker. */
  readonly data: Uint8Array;
  /** Who deleted, for a marker that names someone (kv-updated-by.ts). */
  readonly updatedBy?: string;
}

/**
 * Reads every kept message of `key` in the bucket's stream, oldest first; `[]` when there is none. Rejects with
 * the library's error (the caller wraps it) when a get fails for any other reason, e.g. the bucket is gone.
 */
export async function readKvHistory(bucket: KvBucket, key: string): Promise<KvHistoryEntry[]> {
  const manager = await bucket.js.jetstreamManager(false);
  const stream = kvStream(bucket.name);
  const subject = kvSubject(bucket.name, key);
  const entries: KvHistoryEntry[] = [];
  // Not an object literal at the call: nats.js types this request only for direct gets, but the stream's message
  // GET takes it too, and that one is answered by the stream leader whether or not the bucket allows direct gets.
  const request = { seq: 1, next_by_subj: subject };
  for (;;) {
    let message;
    try {
      message = await manager.streams.getMessage(stream, request);
    } catch (error) {
      if (isNoMessageFound(error)) return entries;
      throw error;
    }
    // A server that ignores `next_by_subj` (before 2.9) answers the message at `seq`, whatever its key.
    if (message.subject !== subject) {
      throw new InternalError(`the server answered '${message.subject}' for a get of '${subject}' by subject`, {
        details: { stream, subject, seq: request.seq },
      });
    }
    const operation = message.header.get('KV-Operation') || 'PUT';
    const updatedBy = operation === 'PUT' ? undefined : updatedByIn(message.header);
    entries.push({
      revision: message.seq,
      operation,
      data: message.data,
      ...(updatedBy === undefined ? {} : { updatedBy }),
    });
    request.seq = message.seq + 1;
  }
}
