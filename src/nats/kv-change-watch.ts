/**
 * The watches of a KV store: bucket entries decoded into store changes and handed over in the batches kv-watch.ts
 * gathers, to a listener of one change at a time (`Store.watch`) or of whole batches (`Store.watchBatches`). What
 * a listener or the codec throws is reported, and delivery carries on.
 * @module
 */
import type { KV } from 'nats';
import type { StoreChange, StoreWatch } from '../store/store.js';
import type { WatchStart } from '../store/watch-start.js';
import { watchKv, type KvWatchHandle, type WatchKvOptions } from './kv-watch.js';
import { deletedBy } from './kv-updated-by.js';

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
  ) => StoreChange<V>;
  /** Told what a listener (or the codec) threw, with the change concerned; must not throw. */
  readonly report: (error: unknown, change: StoreChange<V>) => void;
  /** Told when a watch ends by itself. */
  readonly reportEnd: (error: unknown, prefix: string) => void;
  /** The running watches (a resume after an outage reopens them). */
  readonly watches: Set<KvWatchHandle>;
}

/** Opens a watch under `prefix` from `start`, handing each batch of decoded changes to `onChanges`. */
export function openKvChangeWatch<V>(
  deps: KvChangeWatchDeps<V>,
  prefix: string,
  start: WatchStart,
  onChanges: (changes: StoreChange<V>[]) => void,
): StoreWatch {
  const { toChange, report, watches } = deps;
  // Keys this watch reported live; a marker for any other key is stale news from the initial snapshot.
  // A watch from a revision replays history, where every marker is news.
  const reported = start.kind === 'current' ? new Set<string>() : undefined;
  const handle = watchKv(
    deps.kv,
    prefix,
    start,
    (entries) => {
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
          changes.push(toChange(key, operation, revision, value, operation === 'PUT' ? undefined : deletedBy(entry)));
        } catch (error) {
          // A value the codec cannot read is reported like a listener error, not fatal.
          report(error, { operation: 'delete', key, revision });
        }
      }
      if (changes.length > 0) onChanges(changes);
    },
    (error) => {
      watches.delete(handle);
      deps.reportEnd(error, prefix);
    },
    deps.consumerOptions,
  );
  watches.add(handle);
  return {
    ready: handle.initialized,
    stop() {
      watches.delete(handle);
      handle.stop();
    },
  };
}

/** Runs `run` (a listener given `change` or its batch); what it throws is reported, and delivery carries on. */
export function deliverReported<V>(
  report: KvChangeWatchDeps<V>['report'],
  run: () => void,
  change: StoreChange<V>,
): void {
  try {
    run();
  } catch (error) {
    report(error, change);
  }
}
