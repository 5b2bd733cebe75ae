/**
 * A store's watch in batches, whether the store gathers them or not.
 * @module
 */
import type { Store, StoreChange, StoreWatch, WatchOptions } from './store.js';

/**
 * {@link Store.watchBatches} where the store has it (a batch is what arrived together); otherwise its `watch`, each
 * change a batch of its own.
 */
export function watchInBatches<V>(
  store: Store<V>,
  prefix: string,
  listener: (changes: readonly StoreChange<V>[]) => void,
  options?: WatchOptions,
): StoreWatch {
  return store.watchBatches
    ? store.watchBatches(prefix, listener, options)
    : store.watch(prefix, (change) => listener([change]), options);
}
