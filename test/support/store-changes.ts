/**
 * Watching a store in contract tests: collecting changes and waiting for them (the KV store delivers over the
 * network, so a test waits for deliveries instead of assuming them synchronous).
 * @module
 */
import type { StoreChange } from '../../src/store/store.js';

/** Collects a watch's changes and lets a test wait until enough have arrived. */
export function collect(): {
  readonly changes: StoreChange<unknown>[];
  readonly listener: (change: StoreChange<unknown>) => void;
  until(count: number, timeoutMs?: number): Promise<StoreChange<unknown>[]>;
} {
  const changes: StoreChange<unknown>[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    changes,
    listener(change) {
      changes.push(change);
      for (const waiter of waiters.filter((w) => changes.length >= w.count)) waiter.resolve();
    },
    async until(count, timeoutMs = 5_000) {
      if (changes.length < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`expected ${count} changes, got ${changes.length}: ${JSON.stringify(changes)}`)),
            timeoutMs,
          );
          waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }
      return changes;
    },
  };
}

/** Lets in-flight deliveries land, so a test can assert that nothing more arrives. */
export const settle = (ms = 150): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `key=value` for a put, `-key` for a delete marker. */
export const summary = (changes: readonly StoreChange<unknown>[]): string[] =>
  changes.map((c) => (c.operation === 'put' ? `${c.key}=${JSON.stringify(c.value)}` : `-${c.key}`));
