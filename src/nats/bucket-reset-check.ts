/**
 * Telling the operator that a bucket went back under a running node. A node that rides through a server restart on
 * storage restored from an older copy (or a bucket deleted and created again meanwhile) finds the bucket's revisions
 * below those it applied: its watch resumes past the bucket's end and its view keeps the old bucket's values, so its
 * reads are stale and its compare-and-set writes fail for good. Nothing else shows it, so after each reconnect the
 * node compares the bucket's last revision with what it applied, and says so once (README: restart the node).
 * @module
 */
import type { NatsConnection } from 'nats';
import { BucketResetError } from '../errors.js';
import { bucketLastRevision } from './bucket-stream.js';
import { backgroundPause } from './retry-unavailable.js';

/** How often, and how far apart, the bucket is asked: JetStream answers a few hundred ms after a server restarts. */
const READ_ATTEMPTS = 20;
const READ_PAUSE_MS = 250;

/**
 * Returns what to call once the connection is back: it reads `bucket`'s last revision (retrying while JetStream is
 * not answering yet) and tells `report` a {@link BucketResetError} when it is below `applied()` (taken when called,
 * before any write to the new bucket could be applied). Told once per node: every later reconnect finds the same.
 */
export function bucketResetCheck(
  connection: NatsConnection,
  bucket: string,
  applied: () => number,
  report: (error: unknown) => void,
): () => void {
  let told = false;
  let checking = false;
  return () => {
    if (told || checking) return;
    checking = true;
    const appliedRevision = applied();
    void (async () => {
      for (let attempt = 0; attempt < READ_ATTEMPTS && !connection.isClosed(); attempt += 1) {
        let last: number;
        try {
          last = await bucketLastRevision(connection, bucket);
        } catch {
          // Not answering yet (or gone: a deletion a node's writes report on their own).
          await backgroundPause(READ_PAUSE_MS);
          continue;
        }
        if (last < appliedRevision) {
          told = true;
          report(new BucketResetError(bucket, appliedRevision, last));
        }
        return;
      }
    })().finally(() => {
      checking = false;
    });
  };
}
