/**
 * Watching a KV bucket by key prefix, with a reliable "current values delivered" point.
 *
 * nats.js signals the end of the initial values through `initializedFn`, but calls it in one of two ways: queued
 * in order behind the initial entries, or synchronously inside `kv.watch()` when every initial entry arrived
 * before the consumer was confirmed (usual on loopback) — then the entries are still waiting in the iterator.
 * In that second case a function is pushed onto the iterator, which runs queued functions in order, so the
 * signal always lands right after the last initial entry.
 * @module
 */
import { KvWatchInclude, type KV, type KvEntry, type QueuedIterator } from 'nats';

/** A running bucket watch. */
export interface KvWatchHandle {
  /** Resolves once the initial entries went through `onEntry`. */
  readonly initialized: Promise<void>;
  /** Ends the watch; idempotent. */
  stop(): void;
}

/** The `kv.watch` key filter for a store prefix (`''` → every key). */
export function keyFilter(prefix: string): string {
  return prefix === '' ? '>' : `${prefix}>`;
}

/**
 * Watches keys under `prefix`. With `includeCurrent` the last message of every key comes first (delete markers
 * too: the caller decides), in stream order, then live messages. `onEntry` returning `false` stops the watch.
 * `onEnd` hears why a watch ended on its own (connection closed, consumer deleted); not called after `stop()`.
 */
export function watchKv(
  kv: KV,
  prefix: string,
  includeCurrent: boolean,
  onEntry: (entry: KvEntry, initialized: boolean) => boolean | void,
  onEnd: (error: unknown) => void,
): KvWatchHandle {
  let stopped = false;
  let initializedNow = false;
  let iterator: QueuedIterator<KvEntry> | undefined;
  let markInitialized!: () => void;
  let failInitialized!: (error: unknown) => void;
  const initialized = new Promise<void>((resolve, reject) => {
    markInitialized = () => {
      initializedNow = true;
      resolve();
    };
    failInitialized = reject;
  });
  // Nobody may be awaiting it; a rejection must not become an unhandled one.
  initialized.catch(() => {});
  let firedEarly = false;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    iterator?.stop();
    markInitialized();
  };

  void (async () => {
    try {
      const it = await kv.watch({
        key: keyFilter(prefix),
        include: includeCurrent ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
        initializedFn: () => {
          if (iterator === undefined) firedEarly = true;
          else markInitialized();
        },
      });
      iterator = it;
      if (stopped) {
        it.stop();
        return;
      }
      // The iterator runs queued functions in order; nats.js queues its own signal the same way.
      if (firedEarly) (it as unknown as { push(item: () => void): void }).push(markInitialized);
      for await (const entry of it) {
        if (stopped) break;
        if (onEntry(entry, initializedNow) === false) {
          stop();
          break;
        }
      }
    } catch (error) {
      if (!stopped) {
        failInitialized(error);
        onEnd(error);
      }
    }
  })();

  return { initialized, stop };
}
