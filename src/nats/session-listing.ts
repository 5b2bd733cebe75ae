/**
 * Which sessions exist on a NATS system, a page at a time, read from the session directory's bucket
 * (session-directory.ts) as every node sees it: a session is listed exactly when a request on it with `create: false`
 * finds it, that is when its key holds a record (a value there that is no session record, written by something else,
 * is none: the directory's `isRecord` tells, and tells `onError` of it). A deleted or expired session's key holds a removal marker (a
 * tombstone, until a scan sweeps it) or nothing, and is left out; a session idle past its TTL that no scan has removed
 * yet is still listed, as a request still finds (and keeps) it.
 *
 * The keys come from the stream's subjects (stream info, no consumer: a last-per-subject consumer, as nats.js's
 * `kv.keys()` opens, which skips the markers, can block after deletes on server 2.9, nats-server#3481), sorted here;
 * then only the keys a page needs are read, from the first after `after`, until the page and one id more are found
 * live (the one more tells whether `next` is due). A page therefore costs one stream info (every key's name) and
 * about `limit` message gets, not one get per session. Both ride through an election of the stream's leader
 * (kv-bucket.ts), as the directory's own reads do.
 *
 * The sorted names are kept for the next page, tagged with where the stream was before they were read (its last
 * sequence, its message count, its creation time): a page first asks for that alone (a stream info without
 * subjects, a few hundred bytes) and reads the names again only when the stream moved. Every new key comes with a
 * new message and every removed one takes messages away, so a kept list is the list as it would be read now. A list
 * read while the stream moved is not kept; past 100,000 keys, where the names come in pages and a key removed between
 * two of them can shift another out of both, it is also read again, up to three times. Paging through 100,000 sessions a
 * thousand at a time then reads the names once rather than a hundred times (each read some 300 ms here) while no
 * session is opened, used or removed meanwhile.
 * @module
 */
import { isSessionId } from '../variables/names.js';
import { kvStream, wrap, type KvBucket, type LastWrite } from './kv-bucket.js';
import { subjectKeys } from './kv-last-writes.js';
import { deadlineOf } from './retry-unavailable.js';
import { indexAfter, type PageRequest, type SessionPage } from './session-page.js';

/** The sessions of a NATS system, a page at a time. */
export interface SessionListing {
  /** The ids of the sessions that exist now, in code-point order, strictly after `after`, at most `limit`. */
  page(request: PageRequest): Promise<SessionPage>;
}

/** The most subjects nats-server names in one stream info answer; nats.js asks for more in further requests. */
const SUBJECTS_PER_ANSWER = 100_000;

/** Keys read at once: a page of 5000 is read in a few rounds rather than as 5000 requests in flight together. */
const READS_AT_ONCE = 256;

/**
 * The listing of the sessions in the session directory's `bucket` (session-directory.ts, which opened it and hands
 * the listing out as `directory.listing`); `isRecord` says whether a key's live value is a session record.
 */
export function sessionListing(bucket: KvBucket, isRecord: (key: string, last: LastWrite) => boolean): SessionListing {
  let kept: { readonly position: string; readonly keys: readonly string[] } | undefined;
  /**
   * Every key's name, sorted: those kept while the stream is where it was when they were read, else read again. A
   * list is kept only when the stream did not move while it was read: past 100,000 keys it comes in pages, and a key
   * removed between two of them can shift another out of both.
   */
  const sortedKeys = async (until: number): Promise<readonly string[]> => {
    let position = await positionOf(bucket, until);
    for (let reads = 1; ; reads += 1) {
      if (kept?.position === position) return kept.keys;
      const keys = (await sessionKeys(bucket, until)).sort();
      const after = await positionOf(bucket, until);
      if (after === position) kept = { position, keys };
      // One answer is read whole, at one moment: only names that came in pages can have been torn by the move. A
      // stream that keeps moving (sessions opened and stamped all the time) gets the third read as it is.
      if (after === position || keys.length < SUBJECTS_PER_ANSWER || reads === 3) return keys;
      position = after;
    }
  };

  return {
    async page({ after, limit }) {
      const until = deadlineOf(bucket.retry);
      const keys = await sortedKeys(until);
      let at = after === undefined ? 0 : indexAfter(keys, after);
      const live: string[] = [];
      while (live.length <= limit && at < keys.length) {
        const batch = keys.slice(at, at + Math.min(READS_AT_ONCE, limit + 1 - live.length));
        at += batch.length;
        const last = await Promise.all(batch.map((key) => bucket.readLast(key, until)));
        for (const [i, key] of batch.entries()) {
          const found = last[i];
          if (found?.live && isRecord(key, found)) live.push(key);
        }
      }
      const ids = live.slice(0, limit);
      return live.length > limit ? { ids, next: ids.at(-1)! } : { ids };
    },
  };
}

/**
 * Where the bucket's stream is: its last message's sequence (a write), how many messages it holds (a message deleted
 * or purged, which leaves the last sequence as it was), and when it was made (a bucket made again starts over).
 */
async function positionOf(bucket: KvBucket, until: number): Promise<string> {
  return bucket.read(
    'list',
    '>',
    async () => {
      const manager = await bucket.js.jetstreamManager(false);
      const info = await manager.streams.info(kvStream(bucket.name));
      return `${info.created} ${info.state.last_seq} ${info.state.messages}`;
    },
    (error) => wrap(error, 'list', '>', bucket),
    until,
  );
}

/** The keys of the bucket's stream that can name a session: from its subjects (records and tombstones alike). */
async function sessionKeys(bucket: KvBucket, until: number): Promise<string[]> {
  // The bucket is shared: a key no session can have (written by something else) is no session.
  return (await subjectKeys(bucket, '', 'list', until)).filter(isSessionId);
}
