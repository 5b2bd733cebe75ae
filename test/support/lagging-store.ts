/**
 * A store as seen by a runtime whose router hears every change late: its view lags the store, as a node's does
 * when another node's write has not reached its watcher yet.
 */
import type { Store, VariableRecord } from '../../src/index.js';

/** `store`, its watchers told of each change `lagMs` after it happened. */
export function laggingStore(store: Store<VariableRecord>, lagMs: number): Store<VariableRecord> {
  return {
    ...store,
    watch: (prefix, listener, options) =>
      store.watch(prefix, (change) => void setTimeout(() => listener(change), lagMs), options),
  };
}
