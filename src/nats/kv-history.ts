/**
 * A key's history in a KV bucket, read with stream message gets instead of a consumer: on server 2.9 a consumer
 * filtered on one key can block after deletes (nats-server#3481), like the listing consumers `list()` dropped.
 * The get `{ last_by_subj }` answers the key's newest message, which bounds the walk; the get `{ seq, next_by_subj }`
 * answers the key's first message at or after `seq` (sequences below the stream's first are fine). So the read is
 * one get per kept message (at most the bucket's `history`, 64); a key never written costs one get.
 *
 * The walk is no snapshot: a write that lands while it goes on may push out of the key's history a message the walk
 * has not reached yet (a hole between what it read before and after); the session keeps the unbroken run of versions
 * at the end (variable-history.ts). Writes newer than the key's newest message when the read began are not read: a
 * key written faster than gets are answered kept an open-ended walk going, and its list growing, for as long as
 * its writer wrote (a rollback against a writer on another node read 1,800 versions over 2 s, then found the one it
 * wanted gone).
 * @module
 */
import type { JetStreamManager, StoredMsg } from 'nats';
import { InternalError } from '../errors.js';
import { kvStream, kvSubject, type KvBucket } from './kv-bucket.js';
import { noMessage } from './jetstream-api-error.js';
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
  const newest = await keyMessage(manager, stream, subject, { last_by_subj: subject });
  if (newest === undefined) return [];
  const entries: KvHistoryEntry[] = [];
  // Not an object literal at the call: nats.js types this request only for direct gets, but the stream's message
  // GET takes it too, and that one is answered by the stream leader whether or not the bucket allows direct gets.
  const request = { seq: 1, next_by_subj: subject };
  while (request.seq < newest.seq) {
    const message = await keyMessage(manager, stream, subject, request);
    // Past the newest message read first (a purge removed the ones between), or none left at all: that one ends it.
    if (message === undefined || message.seq >= newest.seq) break;
    entries.push(historyEntry(message));
    request.seq = message.seq + 1;
  }
  entries.push(historyEntry(newest));
  return entries;
}

/** The message a get by subject answers, `undefined` when the stream holds none of the key there. */
async function keyMessage(
  manager: JetStreamManager,
  stream: string,
  subject: string,
  request: { seq: number; next_by_subj: string } | { last_by_subj: string },
): Promise<StoredMsg | undefined> {
  const message = await manager.streams.getMessage(stream, request).catch(noMessage);
  if (message === undefined) return undefined;
  // A server that ignores `next_by_subj` (before 2.9) answers the message at `seq`, whatever its key.
  if (message.subject !== subject) {
    throw new InternalError(`the server answered '${message.subject}' for a get of '${subject}' by subject`, {
      details: { stream, subject, request },
    });
  }
  return message;
}

/** A kept message of the key as a history entry. */
function historyEntry(message: StoredMsg): KvHistoryEntry {
  const operation = message.header.get('KV-Operation') || 'PUT';
  const updatedBy = operation === 'PUT' ? undefined : updatedByIn(message.header);
  return {
    revision: message.seq,
    operation,
    data: message.data,
    ...(updatedBy === undefined ? {} : { updatedBy }),
  };
}
