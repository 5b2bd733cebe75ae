/**
 * The options of a KV store (kv-store.ts), and the keys it takes.
 * @module
 */
import { optionKeys } from '../option-keys.js';
import type { CommitCheckedHook, CommitWriteHook } from './kv-commit.js';
import type { StoreChange } from '../store/store.js';
import type { StoreCodec } from './store-codec.js';

/** Options of `createKvStore` (kv-store.ts). */
export interface KvStoreOptions<V> {
  /**
   * The bucket; created when missing, bound when it exists. An existing bucket is never changed: one whose
   * history or replicas differ from an explicitly given `historyDepth` or `replicas` is refused with
   * `BucketConfigMismatchError`, and a setting left out accepts the bucket's.
   * @default 'tether_vars'
   */
  readonly bucket?: string;
  /**
   * Writes kept per key (the bucket's `history`, 1 to 64).
   * @default 64 for a new bucket
   */
  readonly historyDepth?: number;
  /** Copies of the bucket on a clustered JetStream (1 to 5). @default 1 for a new bucket */
  readonly replicas?: number;
  /** @default JSON */
  readonly codec?: StoreCodec<V>;
  /**
   * Told about every exception a watch listener throws, and every value under a watched or listed key that cannot be
   * read (a value the codec refuses, a subject that is no key), which is left out; delivery carries on.
   */
  readonly onListenerError?: (error: unknown, change: StoreChange<unknown>) => void;
  /** Told when a watch ends by itself (connection closed, consumer lost); it delivers nothing more. */
  readonly onWatchError?: (error: unknown, prefix: string) => void;
  /**
   * Told, once per outage, when reopening a watch has failed for about a minute, with the last failure as JetStream
   * answered it: a `StoreUnavailableError` (`details.stillTrying`) naming the bucket when no leader answers or
   * JetStream is missing (saying what it lacks when the server now runs without it); the bucket's refusal when the
   * deployment refuses the watch (a `NatsConnectionError`, status `refused`, naming the subject, or a
   * `StoreLimitError`); otherwise an `InternalError` naming the bucket, in JetStream's words (e.g. "stream not found":
   * the bucket gone). The watch goes on trying until a consumer opens.
   */
  readonly onWatchSlow?: (error: unknown, prefix: string) => void;
  /**
   * How long an operation waits for the bucket while no leader of its stream answers (a NATS cluster electing one,
   * or the connection down), retrying, before it fails with `StoreUnavailableError`; 0 fails at once. Elections took
   * 4 to 8 s on nats-server 2.9.10 here, and up to 15 s are reported. A request in flight is not cut short, so an
   * operation can take up to one request timeout (5 s) longer. Callers that wait for a write (a session's
   * `callTimeoutMs`, a client's `timeoutMs`) need as long to hear how it ended.
   * @default 15000
   */
  readonly unavailableRetryMs?: number;
  /**
   * Largest `updatedBy` a delete (or a commit's delete) may carry, as its marker's header holds it (kv-updated-by.ts);
   * a bigger one is refused with `ValidationError` and nothing is written. A node gives its record limit. It can only
   * lower the limit of every marker, `MAX_UPDATED_BY_HEADER_BYTES` (60000), which the server's header limit sets.
   * @default 60000
   */
  readonly maxUpdatedByBytes?: number;
  /**
   * How long a deleted key's earlier writes stay in the bucket after a commit's delete with `dropHistory` (see
   * late-removals.ts); on a replicated bucket at least its duplicate window and a minute more. @default 10000
   */
  readonly removalDelayMs?: number;
  /**
   * For a store whose limits follow the bucket's own value limit (a node's record limit): called once the bucket is
   * open with its `maxValueSize` (the bytes one message may take, `undefined` for no limit), returns the `codec` and
   * `maxUpdatedByBytes` to use in place of those options. It may throw to refuse the bucket.
   */
  readonly fitToBucket?: (maxValueSize: number | undefined) => Pick<KvStoreOptions<V>, 'codec' | 'maxUpdatedByBytes'>;
  /** Told when a deleted key's earlier writes could not be removed (see late-removals.ts). */
  readonly onRemovalError?: (error: unknown) => void;
  /** Runs between a commit's check and its writes. For tests that race a commit; leave unset otherwise. */
  readonly onCommitChecked?: CommitCheckedHook;
  /** Runs before each write of a commit of several writes. For tests that stop a commit midway; leave unset otherwise. */
  readonly onCommitWrite?: CommitWriteHook;
}

/** The keys {@link KvStoreOptions} takes; any other is refused (a misspelled one would be a default, silently). */
export const KV_STORE_KEYS = optionKeys<KvStoreOptions<unknown>>({
  bucket: true,
  historyDepth: true,
  replicas: true,
  codec: true,
  onListenerError: true,
  onWatchError: true,
  onWatchSlow: true,
  unavailableRetryMs: true,
  maxUpdatedByBytes: true,
  onCommitChecked: true,
  onCommitWrite: true,
  removalDelayMs: true,
  onRemovalError: true,
  fitToBucket: true,
});
