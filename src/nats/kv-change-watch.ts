/**
 * The watches of a KV store: bucket entries decoded into store changes and handed over in the batches kv-watch.ts
 * gathers, to a listener of one change at a time (`Store.watch`) or of whole batches (`Store.watchBatches`). What
 * a listener throws is reported, and delivery carries on. A put the codec cannot read is reported too, and delivered
 * as what it stands for: no value at its revision (kv-values.ts).
 * @module
 */
import type { KV } from 'nats';
import type { CommitMark, StoreChange, StoreWatch } from '../store/store.js';
import type { WatchStart } from '../store/watch-start.js';
import { watchKv, type KvWatchHandle } from './kv-watch.js';
import type { WatchKvOptions } from './kv-watch-options.js';
import { markerMark } from './commit-mark.js';
import { entryHeaders, updatedByIn } from './kv-updated-by.js';

/** What a KV store's watches run on. */
export interface KvChangeWatchDeps<V> {
  readonly kv: KV;
  readonly consumerOptions: WatchKvOptions;
  /** A bucket entry as a change; throws for a value the codec cannot read. */
  readonly toChange: (
    key: string,
    operation: string,
    revision: number,
    value: Uint8Array,
    updatedBy: string | undefined,
    /** The commit a delete marker is part of, from its headers (commit-mark.ts). */
    markerMark?: CommitMark,
  ) => StoreChange<V>;
  /**
   * The change a put that `toChange` could not read stands for (see `unreadableChange` in kv-values.ts);
   * `undefined` for a subject that is no key of the store, which stands for nothing.
   */
  readonly unreadableChange: (key: string, revision: number, value: Uint8Array) => StoreChange<V> | undefined;
  /** Told what a listener (or the codec) threw, with the change concerned (a batch's last); must not throw. */
  readonly report: (error: unknown, change: StoreChange<V>) => void;
  /** Told when a watch ends by itself. */
  readonly reportEnd: (error: unknown, prefix: string) => void;
  /** Told when reopening a watch after an outage has failed for about a minute, as it goes on trying. */
  readonly reportSlowReopen: (error: unknown, prefix: string) => void;
  /** The running watches (a resume after an outage reopens them). */
  readonly watches: Set<KvWatchHandle>;
}

/** Who a watch delivers to: a listener of one change at a time, or of whole batches. */
export type ChangeListener<V> =
  | { readonly each: (change: StoreChange<V>) => void }
  | { readonly batch: (changes: readonly StoreChange<V>[]) => void };

/** Opens a watch under `prefix` from `start`, delivering its decoded changes to `listener`. */
export function openKvChangeWatch<V>(
  deps: KvChangeWatchDeps<V>,
  prefix: string,
  start: WatchStart,
  listener: ChangeListener<V>,
): StoreWatch {
  const { toChange, report, watches } = deps;
  let stopped = false;
  /** Runs `run`; what it throws is reported with `change`, and delivery carries on. */
  const deliver = (run: () => void, change: StoreChange<V>): void => {
    try {
      run();
    } catch (error) {
      report(error, change);
    }
  };
  const onChanges = (changes: StoreChange<V>[]): void => {
    if ('batch' in listener) return deliver(() => listener.batch(changes), changes[changes.length - 1]!);
    for (const change of changes) {
      // A listener that stops its watch hears nothing more, not even the rest of the batch it is in.
      if (stopped) return;
      deliver(() => listener.each(change), change);
    }
  };
  // Keys this watch reported live while it hands over the current values; a marker for any other key then is stale
  // news from the initial snapshot. Once they are through, every marker is news, as in the memory store (a delete of
  // a key deleted before the watch began, or never written); and a watch from a revision replays history, where
  // every marker is news too.
  let reported = start.kind === 'current' ? new Set<string>() : undefined;
  const handle = watchKv(
    deps.kv,
    prefix,
    start,
    (entries, initialized) => {
      if (initialized) reported = undefined;
      const changes: StoreChange<V>[] = [];
      for (const entry of entries) {
        const { key, value, revision } = entry;
        // Only markers are empty: every record is JSON. Asked only of those, nats.js parses no headers for a put,
        // which cost a routed update about a tenth of its time on the receiving node.
        const operation = value.length > 0 ? 'PUT' : entry.operation;
        if (reported) {
          if (operation === 'PUT') reported.add(key);
          else if (!reported.has(key)) continue;
        }
        try {
          if (operation === 'PUT') changes.push(toChange(key, operation, revision, value, undefined));
          else {
            const headers = entryHeaders(entry);
            changes.push(toChange(key, operation, revision, value, updatedByIn(headers), markerMark(headers)));
          }
        } catch (error) {
          // Reported like a listener error, not fatal; and delivered as no value there, so that a watcher drops what
          // the key held before, as a node loading it now leaves it out.
          const change = deps.unreadableChange(key, revision, value);
          report(error, change ?? { operation: 'delete', key, revision });
          if (change) changes.push(change);
        }
      }
      if (changes.length > 0) onChanges(changes);
    },
    (error) => {
      watches.delete(tracked);
      deps.reportEnd(error, prefix);
    },
    { ...deps.consumerOptions, reopenSlow: (error) => deps.reportSlowReopen(error, prefix) },
  );
  const stop = (): void => {
    stopped = true;
    watches.delete(tracked);
    handle.stop();
  };
  // The store's close stops its watches through this handle, so that a listener closing the store hears no more of
  // the batch it is in either, as one stopping its own watch does.
  const tracked: KvWatchHandle = {
    initialized: handle.initialized,
    resume: () => handle.resume(),
    checkNow: () => handle.checkNow(),
    stop,
  };
  watches.add(tracked);
  return { ready: handle.initialized, stop };
}
