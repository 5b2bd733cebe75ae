/**
 * The {@link Store} on a JetStream KV bucket, for sessions shared by many nodes.
 *
 * Revisions are the bucket stream's sequences; compare-and-set is the server's per-subject check
 * (`Nats-Expected-Last-Subject-Sequence`), so a key's compare-and-set revision is its last message, a delete
 * marker included — the memory store mirrors exactly this. Values are encoded with an injected codec (JSON by
 * default); a put from outside that it cannot read is no value at its revision, as a marker there (kv-values.ts).
 * `commit` cannot be atomic on server 2.9.10: see `kv-commit.ts` for what it does and guarantees.
 *
 * Watches are ordered push consumers filtered on `<prefix>>`; listeners run one change at a time, in revision
 * order, asynchronously (after the write's promise resolves, usually within a millisecond on loopback).
 * A watch with `includeCurrent` leaves out of the current values the delete markers of keys it has not reported live
 * (the initial snapshot holds markers of long-deleted keys), and then hears every delete; one `fromRevision` N is a
 * consumer starting at stream sequence N, which delivers every message still in the stream from there (the bucket
 * keeps `history` per key), markers too.
 * `resumeWatches` reopens them where they were after an outage. A delete's `updatedBy` travels on its marker as a
 * header (kv-updated-by.ts), so every watch and every node reads it back; `maxUpdatedByBytes` bounds it. `purge` is
 * a rollup: one `PURGE` marker replaces every message of the key, so the bucket keeps no value of it (the marker goes
 * with a stream purge, see session-removal.ts).
 *
 * Reads and writes ride through an election of the stream's leader, up to `unavailableRetryMs` (kv-bucket.ts), and
 * so does opening the bucket (kv-bucket-open.ts).
 *
 * Anything with access to the bucket can publish under its subjects. What a listing, a watch or a history meets that
 * cannot be read (a value the codec refuses, a subject that is no key) is left out and told to `onListenerError`,
 * naming its key: one such message must not keep every other key under the prefix (a whole session), or every other
 * kept write of the key, from being read.
 * @module
 */
import type { NatsConnection } from 'nats';
import { StoreClosedError, ValidationError } from '../errors.js';
import { assertOptionKeys } from '../option-keys.js';
import { NODE_NAME_RULE, isNodeName } from './node-names.js';
import {
  deleteChange,
  type DeleteOptions,
  type Store,
  type StoreChange,
  type StoreEntry,
  type StoreWatch,
  type WatchOptions,
} from '../store/store.js';
import {
  assertDeleteOptions,
  assertDistinctKeys,
  assertExpectedRevision,
  assertStoreKey,
  assertStoreListener,
  assertStorePrefix,
  isStoreKey,
} from '../store/store-keys.js';
import { watchStartOf } from '../store/watch-start.js';
import { kvBucket, wrap, type KvBucket } from './kv-bucket.js';
import { openKvBucket } from './kv-bucket-settings.js';
import { isMarked, markOf } from './commit-mark.js';
import { commitToKv, type CommitEncoding } from './kv-commit.js';
import { KV_STORE_KEYS, type KvStoreOptions } from './kv-store-options.js';
import { readKvHistory } from './kv-history.js';
import { lastWrites } from './kv-last-writes.js';
import { markerHeaders } from './kv-updated-by.js';
import { openKvChangeWatch, type ChangeListener, type KvChangeWatchDeps } from './kv-change-watch.js';
import { assertUnavailableRetryMs, DEFAULT_UNAVAILABLE_RETRY_MS } from './retry-unavailable.js';
import { jsonStoreCodec } from './store-codec.js';
import { kvValueReader, unreadableChange } from './kv-values.js';
import { valueEncoder } from './kv-value-encoder.js';
import type { KvWatchHandle } from './kv-watch.js';
import { watchOptionsFor, type WatchKvOptions } from './kv-watch-options.js';
import { LateRemovals } from './late-removals.js';
import { foreignKey, unreadableWrite } from './kv-unreadable.js';

export type { KvStoreOptions } from './kv-store-options.js';

/** The KV store: a {@link Store} whose watches can be resumed when the connection is back. */
export interface KvStore<V> extends Store<V> {
  /** The copies its bucket's stream keeps, as found when it was opened. */
  readonly replicas: number;
  /** Always there: what one read from the socket brought comes as one batch (see kv-watch.ts). */
  watchBatches: NonNullable<Store<V>['watchBatches']>;
  /**
   * Reopens every running watch right after the last change it delivered. Call it when the connection is back
   * after an outage: a restarted server has lost the watches' consumers, and nats.js would notice only after two
   * missed heartbeats (some 13 s without changes). Listeners see no gap and no change twice. Resolves once every
   * one has its new consumer open (or no longer tries: see `KvWatchHandle.resume`).
   */
  resumeWatches(): Promise<void>;
  /** A reader waits for a revision the bucket holds and the watches have not delivered: see `KvWatchHandle.checkNow`. */
  checkWatches(): void;
}

const byKey = (a: { readonly key: string }, b: { readonly key: string }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * Opens (creating if needed) a KV bucket on `connection` and returns a store over it. Closing the store stops
 * its watches; the connection stays open and belongs to the caller.
 * @example
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const store = await createKvStore<VariableRecord>(nc, { bucket: 'tether_vars' });
 */
export async function createKvStore<V>(
  connection: NatsConnection,
  options: KvStoreOptions<V> = {},
): Promise<KvStore<V>> {
  assertOptionKeys(options, 'createKvStore', KV_STORE_KEYS);
  const name = options.bucket ?? 'tether_vars';
  if (typeof name !== 'string' || !isNodeName(name)) {
    throw new ValidationError(
      `createKvStore option bucket must be a name of ${NODE_NAME_RULE}, got ${JSON.stringify(String(name).slice(0, 60))}`,
      { details: { option: 'bucket', constraint: 'name' } },
    );
  }
  assertUnavailableRetryMs(options.unavailableRetryMs);
  const js = connection.jetstream();
  const settings = { historyDepth: options.historyDepth, replicas: options.replicas };
  const retryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
  const { kv, replicas, historyDepth, duplicateWindowMs, maxValueSize } = await openKvBucket(
    { connection, bucket: name, retryMs, failed: (error) => wrap(error, 'open', name, { name, connection }) },
    settings,
    { historyDepth: 64 },
  );
  const fitted = options.fitToBucket ? { ...options, ...options.fitToBucket(maxValueSize) } : options;
  const codec = fitted.codec ?? jsonStoreCodec<V>();
  // A put whose bytes are no value of the store counts as absent where a write expects the key absent (kv-values.ts).
  const { holdsValue } = kvValueReader(codec);
  const bucket = await kvBucket(connection, { js, kv, name, replicas, retryMs, holdsValue });
  return kvStore(
    bucket,
    { historyDepth, duplicateWindowMs },
    { ...fitted, codec },
    watchOptionsFor(connection, name, retryMs),
  );
}

/** The store over an open bucket that keeps `historyDepth` writes of each key. */
function kvStore<V>(
  bucket: KvBucket,
  { historyDepth, duplicateWindowMs }: { readonly historyDepth: number; readonly duplicateWindowMs: number },
  options: KvStoreOptions<V>,
  consumerOptions: WatchKvOptions,
): KvStore<V> {
  // A delete with `dropHistory` takes the key's earlier writes with it, some seconds later (late-removals.ts).
  const removals = new LateRemovals({
    manager: () => bucket.js.jetstreamManager(false),
    bucket: bucket.name,
    replicatedWindowMs: bucket.replicas > 1 ? duplicateWindowMs : undefined,
    ...(options.removalDelayMs !== undefined ? { delayMs: options.removalDelayMs } : {}),
    report: options.onRemovalError ?? (() => {}),
  });
  const codec = options.codec ?? jsonStoreCodec<V>();
  const encode = valueEncoder(codec);
  const encoding: CommitEncoding<V> = {
    value: (value, key) => encode(key, value),
    markerHeaders: (key, updatedBy) => markerHeaders(key, updatedBy, options.maxUpdatedByBytes),
  };
  const reportError =
    options.onListenerError ?? ((error: unknown) => console.error('tether: a store watch listener threw', error));
  const reportEnd =
    options.onWatchError ??
    ((error: unknown, prefix: string) => console.error(`tether: store watch on '${prefix}' ended`, error));
  const reportSlowReopen =
    options.onWatchSlow ??
    ((error: unknown, prefix: string) =>
      console.error(`tether: store watch on '${prefix}' cannot reopen yet; still trying`, error));
  const watches = new Set<KvWatchHandle>();
  let closed = false;
  /** Commits awaiting their acknowledgement: meanwhile the watches hand their batches over a turn later. */
  let committing = 0;

  function assertOpen(operation: string): void {
    if (closed) throw new StoreClosedError(operation);
  }

  // A put that cannot be read (a write that went around Tether) is no value: see kv-values.ts.
  const values = kvValueReader(codec);
  const decode = values.decode;
  const toChange: KvChangeWatchDeps<V>['toChange'] = (key, operation, revision, value, updatedBy, markerMark) => {
    if (operation === 'PUT') {
      // One byte compare for a single write; a commit's write says which commit it is part of.
      if (!isMarked(value)) return { operation: 'put', key, value: decode(key, value), revision };
      const commit = markOf(value);
      const decoded = decode(key, value);
      return commit
        ? { operation: 'put', key, value: decoded, revision, commit }
        : { operation: 'put', key, value: decoded, revision };
    }
    // A delete or purge marker, seen by a watch or a read: the key holds nothing the codec need keep for it.
    codec.forget?.(key);
    const change = deleteChange<V>(key, revision, updatedBy);
    return markerMark ? { ...change, commit: markerMark } : change;
  };

  const watchDeps: KvChangeWatchDeps<V> = {
    kv: bucket.kv,
    consumerOptions: { ...consumerOptions, deferBatches: () => committing > 0 },
    // A watch hears every subject under its prefix, also one published around the store that is no key (which
    // `list` leaves out): reported, as an unreadable value is, and passed on as nothing (no name anything can use).
    toChange: (key, ...rest) => {
      if (!isStoreKey(key)) throw foreignKey(key);
      return toChange(key, ...rest);
    },
    unreadableChange: (key, revision, data) => (isStoreKey(key) ? unreadableChange(key, revision, data) : undefined),
    report(error, change) {
      try {
        reportError(error, change);
      } catch {
        // A failing error reporter must not end the watch.
      }
    },
    reportEnd,
    reportSlowReopen,
    watches,
  };
  const openWatch = (prefix: string, watchOptions: WatchOptions, listener: ChangeListener<V>): StoreWatch => {
    assertOpen('watch');
    assertStorePrefix(prefix);
    assertStoreListener('batch' in listener ? listener.batch : listener.each);
    return openKvChangeWatch(watchDeps, prefix, watchStartOf(watchOptions), listener);
  };

  return {
    replicas: bucket.replicas,
    async get(key) {
      assertOpen('get');
      assertStoreKey(key);
      const last = await bucket.readLast(key);
      if (!last?.live) return undefined;
      const read = values.read(key, last.data);
      return read.ok ? { key, value: read.value, revision: last.revision } : undefined;
    },

    async lastChange(key) {
      assertOpen('lastChange');
      assertStoreKey(key);
      // One get of the key's last message: a delete marker's revision without walking the history.
      const last = await bucket.readLast(key);
      if (!last) return undefined;
      if (last.live && !values.holdsValue(key, last.data)) return unreadableChange<V>(key, last.revision, last.data);
      return toChange(key, last.live ? 'PUT' : 'DEL', last.revision, last.data, last.updatedBy);
    },

    async create(key, value) {
      assertOpen('create');
      assertStoreKey(key);
      return bucket.writeIfAbsent(key, 'put', encode(key, value));
    },

    async update(key, value, expectedRevision) {
      assertOpen('update');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, false);
      if (expectedRevision === 0) return bucket.writeIfAbsent(key, 'put', encode(key, value));
      return bucket.publish({ key, operation: 'put', data: encode(key, value), expectLast: expectedRevision });
    },

    async delete(key, expectedRevision, deleteOptions: DeleteOptions = {}) {
      assertOpen('delete');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, true);
      assertDeleteOptions(key, deleteOptions);
      const empty = new Uint8Array(0);
      const headers = encoding.markerHeaders(key, deleteOptions.updatedBy);
      if (expectedRevision === 0) return bucket.writeIfAbsent(key, 'delete', empty, undefined, headers);
      return bucket.publish({
        key,
        operation: 'delete',
        data: empty,
        headers,
        ...(expectedRevision === undefined ? {} : { expectLast: expectedRevision }),
      });
    },

    async commit(writes) {
      assertOpen('commit');
      assertDistinctKeys(writes);
      committing += 1;
      try {
        const revisions = await commitToKv(bucket, writes, encoding, options.onCommitChecked, options.onCommitWrite);
        writes.forEach((write, i) => {
          if (write.operation === 'delete' && write.dropHistory) removals.removeLater(write.key, revisions[i]! - 1);
        });
        return revisions;
      } finally {
        committing -= 1;
      }
    },

    async list(prefix) {
      assertOpen('list');
      assertStorePrefix(prefix);
      // The keys come from the stream's subjects (stream info, no consumer), then each key's last message: a
      // last-per-subject consumer can block after deletes on server 2.9 (nats-server#3481), and this is every
      // session's load. Each key is read consistently; sessions fold later changes per key by revision.
      // A subject that is no key cannot be read (kv-last-writes.ts): left out and told, as an unreadable value is.
      const read = await lastWrites(bucket, prefix, 'list', (key) =>
        watchDeps.report(foreignKey(key, prefix), { operation: 'delete', key, revision: 0 }),
      );
      const entries: StoreEntry<V>[] = [];
      for (const { key, last } of read) {
        if (!last?.live) continue;
        const value = values.read(key, last.data);
        if (value.ok) entries.push({ key, value: value.value, revision: last.revision });
        // Left out, and told: one unreadable key must not keep every other key under the prefix (a whole session's
        // variables) from being read.
        else watchDeps.report(value.error, unreadableChange<V>(key, last.revision, last.data));
      }
      return entries.sort(byKey);
    },

    async keys(prefix) {
      assertOpen('keys');
      assertStorePrefix(prefix);
      // A subject that is no key is left out: no purge could name it, and a session's removal takes every message
      // under the session's subjects anyway (session-removal.ts).
      const read = await lastWrites(bucket, prefix, 'keys');
      return read.flatMap(({ key, last }) => (last ? [{ key, revision: last.revision }] : [])).sort(byKey);
    },

    async purge(key, expectedRevision) {
      assertOpen('purge');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, true);
      if (expectedRevision === 0) return bucket.writeIfAbsent(key, 'purge', new Uint8Array(0));
      return bucket.publish({
        key,
        operation: 'purge',
        data: new Uint8Array(0),
        ...(expectedRevision === undefined ? {} : { expectLast: expectedRevision }),
      });
    },

    async history(key) {
      assertOpen('history');
      assertStoreKey(key);
      // Stream message gets, no consumer (nats-server#3481): see kv-history.ts; read again whole through an
      // election. Decoding stays outside the retries.
      const entries = await bucket.read(
        'history',
        key,
        () => readKvHistory(bucket, key),
        (error) => wrap(error, 'history', key, bucket),
      );
      const changes: StoreChange<V>[] = [];
      // The walk reads what the key kept when it began (see readKvHistory); a stream edited since the store opened
      // it may keep more per key, and the store answers with the depth it opened the bucket with.
      for (const entry of entries.slice(-historyDepth)) {
        try {
          changes.push(toChange(key, entry.operation, entry.revision, entry.data, entry.updatedBy));
        } catch (error) {
          // Left out, and told: a put that went around the store (since put right, say) must not hide every other
          // kept write of the key. Had it been a version, the session's history starts after it (variable-history.ts
          // keeps the unbroken run of versions at the end).
          watchDeps.report(unreadableWrite(key, entry.revision, error), {
            operation: 'delete',
            key,
            revision: entry.revision,
          });
        }
      }
      return changes;
    },

    watch: (prefix, listener, watchOptions = {}) => openWatch(prefix, watchOptions, { each: listener }),

    watchBatches: (prefix, listener, watchOptions = {}) => openWatch(prefix, watchOptions, { batch: listener }),

    async resumeWatches() {
      await Promise.all([...watches].map((handle) => handle.resume()));
    },

    checkWatches() {
      for (const handle of watches) handle.checkNow();
    },

    async close() {
      if (closed) return;
      closed = true;
      removals.close();
      for (const handle of watches) handle.stop();
      watches.clear();
    },
  };
}
