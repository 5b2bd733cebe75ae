/**
 * The in-memory {@link Store}: the embedded default. It mirrors a JetStream KV bucket so the session layer
 * cannot tell the two apart:
 * - one store-wide revision counter (a stream sequence); every put and every delete marker takes the next one;
 * - a key's compare-and-set revision is the revision of its last write, a delete marker included (KV checks
 *   the subject's last sequence); `create`, `update(key, value, 0)` and a commit write at `expectedRevision: 0`
 *   succeed when the key is absent or deleted;
 * - a conflict reports `actualRevision` = the last write's revision, 0 when the key was never written;
 * - `delete` always writes a marker (even for an absent key), which history and watchers see, with its `updatedBy`;
 *   a commit's delete with `dropHistory` leaves the marker alone in the key's history (a KV store, a little later);
 * - `purge` forgets the key and its history (watchers see a delete at the next revision): where KV keeps one purge
 *   marker, nothing is left here, so a runtime with many short-lived sessions does not grow.
 *
 * Delivery to watchers is synchronous: a write's listeners have all run before its promise is returned.
 * One store-wide FIFO queue keeps revision order even when a listener writes to the store (that write is
 * delivered after the current one reached every watcher). What a new watch gets first (the current values, or
 * with `fromRevision` the kept writes from there on, read from each key's history as KV keeps the last
 * `historyDepth` messages per key) is queued when `watch()` is called and delivered in a microtask (so the
 * caller holds the handle first), or earlier by the next write's drain; either way before any later change.
 *
 * Values are kept as given, never cloned: callers treat them as immutable.
 * @module
 */
import { StoreClosedError, StoreConflictError, ValidationError } from '../errors.js';
import { assertFunctionOption, assertOptionKeys, optionKeys } from '../option-keys.js';
import {
  deleteChange,
  type DeleteOptions,
  type Store,
  type StoreChange,
  type StoreEntry,
  type StoreWatch,
  type StoreWrite,
  type WatchOptions,
} from './store.js';
import {
  assertDeleteOptions,
  assertDistinctKeys,
  assertExpectedRevision,
  assertStoreKey,
  assertStoreListener,
  assertStorePrefix,
  prefixesOf,
} from './store-keys.js';
import { MemoryWatchers } from './memory-watchers.js';
import { watchStartOf } from './watch-start.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Writes kept per key by `history` (a KV bucket's `history`, whose maximum is 64).
   * @default 64
   */
  readonly historyDepth?: number;
  /** Told about every exception a watch listener throws; the store and other listeners carry on. */
  readonly onListenerError?: (error: unknown, change: StoreChange<unknown>) => void;
}

/** What the store knows of a key, deleted or not. */
interface Slot<V> {
  /** The last write: a put (live) or a delete marker. */
  last: StoreChange<V>;
  /** Kept writes, oldest first, at most `historyDepth`. */
  readonly history: StoreChange<V>[];
}

const DEFAULT_HISTORY_DEPTH = 64;

/** The keys {@link MemoryStoreOptions} takes; any other is refused. */
const MEMORY_STORE_KEYS = optionKeys<MemoryStoreOptions>({ historyDepth: true, onListenerError: true });

/**
 * Creates an empty in-memory store.
 * @example
 * const store = createMemoryStore<number>();
 * const r1 = await store.create('s1.temperature', 0.7);
 * await store.update('s1.temperature', 0.9, r1);
 */
export function createMemoryStore<V>(options: MemoryStoreOptions = {}): Store<V> {
  assertOptionKeys(options, 'createMemoryStore', MEMORY_STORE_KEYS);
  // Checked now: a reporter of another kind would fail only at the first listener error, and unseen.
  assertFunctionOption('createMemoryStore', 'onListenerError', options.onListenerError);
  const historyDepth = options.historyDepth ?? DEFAULT_HISTORY_DEPTH;
  // Bounded as a KV bucket's: a session tuned embedded must run as it is on a node.
  if (!Number.isInteger(historyDepth) || historyDepth < 1 || historyDepth > DEFAULT_HISTORY_DEPTH) {
    throw new ValidationError(
      `createMemoryStore option historyDepth must be an integer from 1 to ${DEFAULT_HISTORY_DEPTH} (a KV bucket's ` +
        `limit), got ${String(historyDepth)}`,
      { details: { option: 'historyDepth', value: historyDepth } },
    );
  }
  const reportError =
    options.onListenerError ?? ((error: unknown) => console.error('tether: a store watch listener threw', error));

  const slots = new Map<string, Slot<V>>();
  /** Keys (deleted ones too) under each dot-ended prefix; `''` is served by `slots` itself. */
  const keysByPrefix = new Map<string, Set<string>>();
  let revision = 0;
  let closed = false;
  const watchers = new MemoryWatchers<V>(reportError);

  function assertOpen(operation: string): void {
    if (closed) throw new StoreClosedError(operation);
  }

  /** Current revision of the key for compare-and-set: its last write, 0 when never written. */
  function lastRevision(key: string): number {
    return slots.get(key)?.last.revision ?? 0;
  }

  function isLive(key: string): boolean {
    return slots.get(key)?.last.operation === 'put';
  }

  /** Whether a write expecting `expected` may proceed; 0 means "absent or deleted". */
  function matches(key: string, expected: number): boolean {
    return expected === 0 ? !isLive(key) : lastRevision(key) === expected;
  }

  function conflict(key: string, expected: number): StoreConflictError {
    return new StoreConflictError(key, expected, lastRevision(key));
  }

  /** Applies one write and queues it for watchers; the caller drains once the whole operation is applied. */
  function apply(
    write:
      | { readonly operation: 'put'; readonly key: string; readonly value: V }
      | {
          readonly operation: 'delete';
          readonly key: string;
          readonly updatedBy?: string | undefined;
          readonly dropHistory?: true;
        },
  ): number {
    revision += 1;
    const change: StoreChange<V> =
      write.operation === 'put'
        ? { operation: 'put', key: write.key, value: write.value, revision }
        : deleteChange(write.key, revision, write.updatedBy);
    let slot = slots.get(write.key);
    if (slot === undefined) {
      slot = { last: change, history: [] };
      slots.set(write.key, slot);
      for (const prefix of prefixesOf(write.key)) {
        if (prefix === '') continue;
        let keys = keysByPrefix.get(prefix);
        if (keys === undefined) keysByPrefix.set(prefix, (keys = new Set()));
        keys.add(write.key);
      }
    }
    slot.last = change;
    if (write.operation === 'delete' && write.dropHistory) slot.history.length = 0;
    slot.history.push(change);
    if (slot.history.length > historyDepth) slot.history.shift();
    watchers.announce(change);
    return revision;
  }

  /** Forgets a key and its history; watchers are told of a delete at the next revision, as KV tells of a purge. */
  function forget(key: string): number {
    revision += 1;
    if (slots.delete(key)) {
      for (const prefix of prefixesOf(key)) {
        const keys = keysByPrefix.get(prefix);
        keys?.delete(key);
        if (keys?.size === 0) keysByPrefix.delete(prefix);
      }
    }
    watchers.announce({ operation: 'delete', key, revision });
    return revision;
  }

  function liveEntries(prefix: string): StoreEntry<V>[] {
    const keys = prefix === '' ? slots.keys() : (keysByPrefix.get(prefix) ?? []);
    const entries: StoreEntry<V>[] = [];
    for (const key of keys) {
      const last = slots.get(key)?.last;
      if (last?.operation === 'put') entries.push({ key, value: last.value, revision: last.revision });
    }
    return entries;
  }

  /** Every kept write (delete markers too) of the keys under `prefix` at or above `fromRevision`, in revision order. */
  function keptChanges(prefix: string, fromRevision: number): StoreChange<V>[] {
    const keys = prefix === '' ? slots.keys() : (keysByPrefix.get(prefix) ?? []);
    const changes: StoreChange<V>[] = [];
    for (const key of keys) {
      for (const change of slots.get(key)?.history ?? []) if (change.revision >= fromRevision) changes.push(change);
    }
    return changes.sort((a, b) => a.revision - b.revision);
  }

  return {
    async get(key) {
      assertOpen('get');
      assertStoreKey(key);
      const last = slots.get(key)?.last;
      return last?.operation === 'put' ? { key, value: last.value, revision: last.revision } : undefined;
    },

    async create(key, value) {
      assertOpen('create');
      assertStoreKey(key);
      if (isLive(key)) throw conflict(key, 0);
      const written = apply({ operation: 'put', key, value });
      watchers.drain();
      return written;
    },

    async update(key, value, expectedRevision) {
      assertOpen('update');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, false);
      if (!matches(key, expectedRevision)) throw conflict(key, expectedRevision);
      const written = apply({ operation: 'put', key, value });
      watchers.drain();
      return written;
    },

    async delete(key, expectedRevision, deleteOptions: DeleteOptions = {}) {
      assertOpen('delete');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, true);
      assertDeleteOptions(key, deleteOptions);
      if (expectedRevision !== undefined && !matches(key, expectedRevision)) throw conflict(key, expectedRevision);
      const written = apply({ operation: 'delete', key, updatedBy: deleteOptions.updatedBy });
      watchers.drain();
      return written;
    },

    async commit(writes: readonly StoreWrite<V>[]) {
      assertOpen('commit');
      assertDistinctKeys(writes);
      // Every check before any write: a commit that fails leaves no trace.
      for (const write of writes) {
        if (!matches(write.key, write.expectedRevision)) throw conflict(write.key, write.expectedRevision);
      }
      const revisions = writes.map((write) => apply(write));
      watchers.drain();
      return revisions;
    },

    async list(prefix) {
      assertOpen('list');
      assertStorePrefix(prefix);
      return liveEntries(prefix).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async history(key) {
      assertOpen('history');
      assertStoreKey(key);
      return [...(slots.get(key)?.history ?? [])];
    },

    async keys(prefix) {
      assertOpen('keys');
      assertStorePrefix(prefix);
      const keys = prefix === '' ? [...slots.keys()] : [...(keysByPrefix.get(prefix) ?? [])];
      return keys.sort().map((key) => ({ key, revision: lastRevision(key) }));
    },

    async purge(key, expectedRevision) {
      assertOpen('purge');
      assertStoreKey(key);
      assertExpectedRevision(key, expectedRevision, true);
      if (expectedRevision !== undefined && !matches(key, expectedRevision)) throw conflict(key, expectedRevision);
      const written = forget(key);
      watchers.drain();
      return written;
    },

    async lastChange(key) {
      assertOpen('lastChange');
      assertStoreKey(key);
      return slots.get(key)?.last;
    },

    watch(prefix, listener, watchOptions: WatchOptions = {}): StoreWatch {
      assertOpen('watch');
      assertStorePrefix(prefix);
      assertStoreListener(listener);
      const start = watchStartOf(watchOptions);
      const fromRevision = start.kind === 'from' ? start.revision : 0;
      const watcher = watchers.add(prefix, listener, fromRevision);

      let resolveReady!: () => void;
      const ready = new Promise<void>((resolve) => (resolveReady = resolve));
      if (start.kind === 'current') {
        const current = liveEntries(prefix).sort((a, b) => a.revision - b.revision);
        for (const entry of current) {
          watchers.queue(watcher, { operation: 'put', key: entry.key, value: entry.value, revision: entry.revision });
        }
      } else if (start.kind === 'from') {
        for (const change of keptChanges(prefix, fromRevision)) watchers.queue(watcher, change);
      }
      watchers.queueReady(watcher, resolveReady);
      queueMicrotask(() => watchers.drain());

      return {
        ready,
        stop() {
          // A stopped watch never resolves `ready` through the queue; resolve it so nobody waits forever.
          watchers.remove(watcher);
          resolveReady();
        },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      watchers.close();
    },
  };
}
