/**
 * The Store interface: a key-value store with compare-and-set on store-wide revisions, history and watches.
 * It is shaped after a JetStream KV bucket, so the memory store (embedded default) and the KV store are
 * interchangeable under the session code.
 * @module
 */

/** A live key: its value and the store-wide revision of the write that produced it. */
export interface StoreEntry<V> {
  readonly key: string;
  readonly value: V;
  /** Store-wide sequence number of the write (a JetStream stream sequence). */
  readonly revision: number;
}

/**
 * One write as history and watches report it. A delete has no value; it names who deleted (`updatedBy`) when the
 * delete did, exactly as given, and has no `updatedBy` otherwise (a purge never has one).
 */
export type StoreChange<V> =
  | {
      readonly operation: 'put';
      readonly key: string;
      readonly value: V;
      readonly revision: number;
      readonly commit?: CommitMark;
    }
  | {
      readonly operation: 'delete';
      readonly key: string;
      readonly revision: number;
      readonly updatedBy?: string;
      readonly commit?: CommitMark;
    };

/**
 * On a watched change of a store whose {@link Store.commit} is several messages (KV): the change is one write of
 * a commit of `size` writes (`id`), or part of the undo of commit `undoes` (the previous value put back after the
 * commit lost a race). A node's router uses it to hand a commit's writes over together and to leave out undone
 * ones (src/nats/commit-holdback.ts). Absent on single writes and on every change of an atomic store.
 */
export type CommitMark = { readonly id: string; readonly size: number } | { readonly undoes: string };

/** A delete as a change: naming who deleted when `updatedBy` is given, with no `updatedBy` field otherwise. */
export function deleteChange<V>(key: string, revision: number, updatedBy: string | undefined): StoreChange<V> {
  return updatedBy === undefined
    ? { operation: 'delete', key, revision }
    : { operation: 'delete', key, revision, updatedBy };
}

/**
 * One write of an atomic {@link Store.commit}. `expectedRevision: 0` means the key must not exist. A delete may
 * name who deletes (`updatedBy`, as {@link DeleteOptions}), and with `dropHistory` leave only its marker in the
 * key's history, for a key whose past nobody reads once it is deleted: the memory store drops the writes before it
 * at once, a KV store some seconds later (its watches may still be reading them), a store that cannot keeps them.
 */
export type StoreWrite<V> =
  | { readonly operation: 'put'; readonly key: string; readonly value: V; readonly expectedRevision: number }
  | {
      readonly operation: 'delete';
      readonly key: string;
      readonly expectedRevision: number;
      readonly updatedBy?: string;
      readonly dropHistory?: true;
    };

/** Options of {@link Store.delete}; any other key is refused with `ValidationError`, and nothing is written. */
export interface DeleteOptions {
  /**
   * Who deletes: any string, kept with the delete marker and reported, exactly as given, on the delete's change
   * (to watchers, in `history`, by `lastChange`). A value that is not a string is refused with `ValidationError`.
   * A delete carries nothing else: a record's other fields went with its last put.
   */
  readonly updatedBy?: string;
}

/**
 * Options of {@link Store.watch}: where the watch starts. Give `includeCurrent` or `fromRevision`, not both
 * (`ValidationError`); with neither, the current values come first.
 */
export interface WatchOptions {
  /**
   * Deliver the current value of every matching key first (in revision order), then live changes; `false`:
   * live changes only.
   * @default true (when `fromRevision` is not given)
   */
  readonly includeCurrent?: boolean;
  /**
   * Deliver every change (puts and delete markers) with a revision at or above this one, in revision order and
   * each once, then live changes: to resume a watch after the last revision it handled, pass that revision + 1.
   * Only what the store still keeps can come: a key keeps its last `historyDepth` writes, so older changes of
   * a busy key are gone and the watch starts with the oldest one kept, and a key the memory store purged is gone
   * with its purge (see {@link Store.purge}). A revision past the store's last one
   * delivers nothing until the store reaches it. A positive integer, else `ValidationError`.
   */
  readonly fromRevision?: number;
}

/** A running watch; `stop()` ends delivery and is idempotent. */
export interface StoreWatch {
  stop(): void;
  /**
   * Resolves once what the watch delivers before live changes (the current values, or the kept changes from
   * `fromRevision` on) has been delivered and live changes follow.
   */
  readonly ready: Promise<void>;
}

/**
 * A key-value store with compare-and-set. Keys are `[A-Za-z0-9_=/-]` tokens joined by dots; a prefix
 * given to `list` and `watch` ends with a dot (`"session-1."`) or is empty for every key. A malformed key or
 * prefix is refused with `ValidationError`; every operation on a closed store with `StoreClosedError`.
 *
 * Compare-and-set follows JetStream KV: a key's revision is that of its last write, a delete marker included,
 * and `expectedRevision: 0` means "absent or deleted". Conflicting writes reject with `StoreConflictError`
 * (src/errors.ts) whose `actualRevision` is the key's last write (0 when never written); nothing of the failed
 * operation is applied. When listeners run (synchronously, or later over the network) is up to the
 * implementation; the order is always revision order.
 */
export interface Store<V> {
  /** The live entry of a key, or `undefined` when it does not exist or was deleted. */
  get(key: string): Promise<StoreEntry<V> | undefined>;
  /** Writes a key that must not exist (never written, or deleted); resolves to the new revision. */
  create(key: string, value: V): Promise<number>;
  /**
   * Writes a key whose last write is at `expectedRevision` (0: the key must be absent or deleted, as `create`);
   * resolves to the new revision.
   */
  update(key: string, value: V, expectedRevision: number): Promise<number>;
  /**
   * Writes a delete marker (kept in history, seen by watchers; written even when the key is absent); with
   * `expectedRevision`, only if the key's last write is still at that revision. The marker carries
   * `options.updatedBy`, when given, to every report of it. Resolves to the marker's revision.
   */
  delete(key: string, expectedRevision?: number, options?: DeleteOptions): Promise<number>;
  /**
   * Applies several compare-and-set writes (an array of `put` and `delete` writes, each key at most once, else
   * `ValidationError` and nothing written); resolves to each
   * write's revision, increasing in the order given. A rejection with `StoreConflictError` leaves every value as
   * it was. The memory store is atomic, with consecutive revisions. The KV store is not (server 2.9 has no
   * multi-message atomicity): a conflict found up front writes nothing, a race lost mid-commit is undone, and
   * a store watcher may see the partial writes and their undo, marked (`StoreChange.commit`) so that a node's
   * router can hand on the commit whole or not at all; see src/nats/kv-commit.ts and commit-holdback.ts.
   */
  commit(writes: readonly StoreWrite<V>[]): Promise<number[]>;
  /** Live entries whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoreEntry<V>[]>;
  /** Every kept write of a key, oldest first (bounded by the store's history depth). */
  history(key: string): Promise<StoreChange<V>[]>;
  /**
   * The key's last write, a delete marker included; `undefined` when it was never written. What `history(key)`
   * ends with, without reading the rest. Optional: callers fall back to `history`.
   */
  lastChange?(key: string): Promise<StoreChange<V> | undefined>;
  /**
   * Every key under `prefix` that the store keeps anything of, deleted ones included, with the revision of its last
   * write (a delete marker's for a deleted key), in key order: what a {@link Store.purge} of everything under the
   * prefix has to cover. A purged key may still be listed, as deleted, where the store keeps a purge marker (KV).
   */
  keys(prefix: string): Promise<{ readonly key: string; readonly revision: number }[]>;
  /**
   * Removes a key with its whole history (a delete marker would keep it); with `expectedRevision`, only if the key's
   * last write is still at that revision (`StoreConflictError` otherwise, nothing removed). Watchers see one delete
   * at the returned revision. Afterwards `get` finds nothing and `history` holds no put: a KV bucket keeps one purge
   * marker (a rollup), which the store reports as a delete; the memory store forgets the key, which is then as one
   * never written (compare-and-set expects 0, `keys` does not list it, and a watch resumed from a revision before
   * the purge does not hear of it), so that a runtime with many short-lived sessions does not grow.
   */
  purge(key: string, expectedRevision?: number): Promise<number>;
  /**
   * Calls `listener` for every change under `prefix`, in revision order, starting where `options` say; a bad
   * option or prefix, or a listener that is no function, throws `ValidationError` at once.
   */
  watch(prefix: string, listener: (change: StoreChange<V>) => void, options?: WatchOptions): StoreWatch;
  /**
   * Optional: {@link Store.watch}, handing over in one call the changes the store received together (one read from
   * the network), in revision order, never an empty batch. A router gives each session one event per batch instead
   * of one per change. A store without it delivers one change at a time through `watch`.
   */
  watchBatches?(
    prefix: string,
    listener: (changes: readonly StoreChange<V>[]) => void,
    options?: WatchOptions,
  ): StoreWatch;
  /** Releases the store's resources; pending watches stop. */
  close(): Promise<void>;
}
