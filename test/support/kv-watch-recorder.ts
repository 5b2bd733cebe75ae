/**
 * A bucket watch (src/nats/kv-watch.ts) on a {@link FakeKv}, under fake timers, recording what it hands over: the
 * harness of the tests of a watch's checks (kv-watch-gap-check, kv-watch-idle-check, kv-watch-check-now).
 */
import type { KvEntry } from 'nats';
import { afterEach, beforeEach, vi } from 'vitest';
import { watchKv, type KvWatchHandle } from '../../src/nats/kv-watch.js';
import type { WatchKvOptions } from '../../src/nats/kv-watch-options.js';
import type { WatchStart } from '../../src/store/watch-start.js';
import { kvEntry, type FakeKv } from './fake-kv-watch.js';

/** The prefix every recorded watch watches. */
export const PREFIX = 'p.';

/** The revision of the stream's next message after `after` under `prefix` (what the tests answer for the stream). */
export type NextStored = (after: number, prefix: string) => Promise<number | undefined>;

/** `nextStored` as the watch takes it: the message itself, as an entry. */
export const entriesOf =
  (next: NextStored) =>
  async (after: number, prefix: string): Promise<KvEntry | undefined> => {
    const revision = await next(after, prefix);
    return revision === undefined ? undefined : kvEntry(revision);
  };

/** A recorded watch. */
export interface Watched {
  readonly handle: KvWatchHandle;
  /** The revisions of each batch handed over, in order. */
  readonly batches: number[][];
  /** Why the watch ended on its own, if it did. */
  readonly ends: unknown[];
}

/** Runs what is due now: the consumer's open, queued entries, answers of `nextStored`. */
export const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);

/** What {@link useKvWatchRecorder} gives a test file. */
export interface KvWatchRecorder {
  /** Watches `kv` under {@link PREFIX} (live changes unless `start` says), recording what is handed over. */
  watch(kv: FakeKv, options: WatchKvOptions, start?: WatchStart): Watched;
  /** Every watch of the test, stopped after it; a test that opens a watch itself pushes its handle here. */
  readonly handles: KvWatchHandle[];
}

/** Fake timers for each test of the file, and every watch of a test stopped after it. */
export function useKvWatchRecorder(): KvWatchRecorder {
  const handles: KvWatchHandle[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    for (const handle of handles) handle.stop();
    handles.length = 0;
    vi.useRealTimers();
  });

  function watch(kv: FakeKv, options: WatchKvOptions, start: WatchStart = { kind: 'live' }): Watched {
    const batches: number[][] = [];
    const ends: unknown[] = [];
    const handle = watchKv(
      kv.asKv(),
      PREFIX,
      start,
      (entries) => batches.push(entries.map((entry) => entry.revision)),
      (error) => ends.push(error),
      options,
    );
    handles.push(handle);
    return { handle, batches, ends };
  }

  return { watch, handles };
}
