/**
 * The options of a bucket watch (`watchKv` in kv-watch.ts), and those a store or a node gives a watch of its bucket.
 * @module
 */
import type { KvEntry, NatsConnection } from 'nats';
import { bucketNextEntry } from './bucket-stream.js';
import { jetStreamRefusal, noJetStream } from './jetstream-refusal.js';
import type { WatchedBucket } from './kv-watch-consumer.js';
import type { QuietCheckTiming } from './kv-watch-quiet.js';

/** Options of `watchKv` (kv-watch.ts). */
export interface WatchKvOptions {
  /**
   * The first message after `after`, of a key under `prefix`, that the bucket's stream still holds, as an entry
   * (`undefined`: none). Given, the watch finds what the server moved its consumer past, or a consumer fallen silent
   * (see kv-watch.ts). Left out, no check. A watch of a prefix asks for each entry that comes after other
   * keys' writes (a gap in its revisions); a watch of the whole bucket only when messages were removed before it got
   * them. Up to 16 such reads run at once (kv-watch-gaps.ts).
   */
  readonly nextStored?: (after: number, prefix: string) => Promise<KvEntry | undefined>;
  /**
   * Told (once per reopen) when reopening the consumer after an outage has failed for about a minute
   * (`SLOW_REOPEN_ATTEMPTS` attempts), with the last failure, as JetStream answered it given `bucket` (see
   * `reopenFailure` in kv-watch-consumer.ts: a `StoreUnavailableError`, `stillTrying`, for JetStream missing or
   * leaderless; the bucket's refusal; an `InternalError` naming the bucket, e.g. for a bucket gone): the watch goes on
   * trying until a consumer opens or the watch is stopped.
   */
  readonly reopenSlow?: (error: unknown) => void;
  /** The period of the checks of a watch that delivers nothing (kv-watch-quiet.ts); left out, only `checkNow`. */
  readonly idleCheck?: QuietCheckTiming;
  /**
   * While this says so, a batch is handed over in the next turn rather than at once. A store says so while a write
   * of its own awaits its acknowledgement: the server sends the write's echo to the watch first and the
   * acknowledgement right after, often in the same socket read. Handed over at once, the echo would run the router
   * and its session's transition ahead of the writer's reply, which then finds the write applied; next turn, the
   * reply goes first and the echo is the no-op.
   */
  readonly deferBatches?: () => boolean;
  /**
   * The bucket watched. Given, the failures to open a consumer are told naming it: a first open's that come for want
   * of a leader (see `firstOpenRetry`) as `StoreUnavailableError` (operation `watch`), saying what is missing when
   * JetStream is (`missing`); a reopen's, to `reopenSlow`, as JetStream answered it. Left out, as the library's errors.
   */
  readonly bucket?: WatchedBucket;
  /**
   * How long a first open waits for an unavailable cluster (`unavailableRetryMs`). Given, a first open whose consumer
   * creation gets no answer or no responders (the cluster electing its meta leader, which creates consumers) tries
   * again, as a reopen does, until then, and rejects with `StoreUnavailableError` (given `bucket`). Left out, a first
   * open makes one attempt and rejects with its failure.
   */
  readonly firstOpenRetry?: { readonly retryMs: number };
}

/**
 * The options of a watch of `bucket` on `connection`: the checks for a consumer moved past messages or silent, each
 * second while it delivers nothing; on one server the period doubles to 5 s while the watch is caught up (there a
 * consumer falls silent only when moved past the end, by a purge), in a cluster it stays at a second (a consumer's
 * server can die at any time).
 */
export function watchOptionsFor(connection: NatsConnection, bucket: string, retryMs: number): WatchKvOptions {
  return {
    nextStored: (after, prefix) => bucketNextEntry(connection, bucket, after, prefix),
    idleCheck: { firstMs: 1000, maxMs: connection.info?.cluster ? 1000 : 5000 },
    // The server's INFO as of now: after a reconnect, that of the server now connected to, with or without JetStream.
    bucket: {
      name: bucket,
      missing: (error) => noJetStream(error, connection.info?.jetstream === true),
      refused: (error, filter) => jetStreamRefusal(error, { connection, bucket, operation: 'watch', key: filter }),
    },
    firstOpenRetry: { retryMs },
  };
}
