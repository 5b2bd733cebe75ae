/**
 * A KV bucket's keys under a prefix, each with its last message, read without a consumer: the keys from the
 * stream's subjects, then a get per key (why no consumer: see `list` in kv-store.ts). Both `list` and `keys` of
 * the KV store read this way.
 *
 * The bucket's stream takes any subject under the bucket's, and anything with access may publish there: a subject
 * that is no store key (`k1.bad:key`, say) cannot be read as a key (nats.js refuses its get), so it is left out and
 * handed to `foreign`, rather than failing the whole listing (a whole session's load).
 * @module
 */
import { isStoreKey } from '../store/store-keys.js';
import { kvStream, kvSubject, wrap, type KvBucket } from './kv-bucket.js';
import { deadlineOf } from './retry-unavailable.js';

/** Told each subject under the prefix left out of a listing because it is no store key, as its key part. */
export type ForeignKeys = (key: string) => void;

/**
 * Every key under `prefix` with a message in the bucket's stream, from stream info (no consumer), unsorted; through
 * an election until `until` (`operation` names it in its error). Past 100,000 keys the server answers in pages,
 * which nats.js asks for one after another: a key removed meanwhile can shift another out of both pages. A subject
 * that is no store key is left out, and given to `foreign` (see the module comment).
 */
export async function subjectKeys(
  bucket: KvBucket,
  prefix: string,
  operation: string,
  until?: number,
  foreign?: ForeignKeys,
): Promise<string[]> {
  const subjectPrefix = kvSubject(bucket.name, '');
  const subjects = await bucket.read(
    operation,
    prefix,
    async () => {
      const manager = await bucket.js.jetstreamManager(false);
      const info = await manager.streams.info(kvStream(bucket.name), { subjects_filter: `${subjectPrefix}${prefix}>` });
      return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
    },
    (error) => wrap(error, operation, prefix, bucket),
    until,
  );
  return subjects.filter((key) => {
    if (isStoreKey(key)) return true;
    foreign?.(key);
    return false;
  });
}

/**
 * Every key under `prefix` with a message in the bucket's stream (from stream info: no consumer), and its last one.
 * The listing and the reads share one deadline through an election (`operation` names them in its error). A subject
 * that is no store key is left out, and given to `foreign`.
 */
export async function lastWrites(
  bucket: KvBucket,
  prefix: string,
  operation: string,
  foreign?: ForeignKeys,
): Promise<{ key: string; last: Awaited<ReturnType<KvBucket['readLast']>> }[]> {
  const until = deadlineOf(bucket.retry);
  const keys = await subjectKeys(bucket, prefix, operation, until, foreign);
  return Promise.all(keys.map(async (key) => ({ key, last: await bucket.readLast(key, until) })));
}
