/**
 * The check a bucket watch makes for a consumer that fell silent while caught up (the module comment of
 * src/nats/kv-watch.ts), against a fake consumer, on fake timers: when the stream is asked, when a new consumer
 * opens, and that no timer is left behind.
 */
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, NatsError } from 'nats';
import { watchKv } from '../../src/nats/kv-watch.js';
import { FakeKv } from '../support/fake-kv-watch.js';
import {
  PREFIX,
  entriesOf,
  settle,
  useKvWatchRecorder,
  type NextStored,
  type Watched,
} from '../support/kv-watch-recorder.js';

const FIRST_MS = 1000;
const MAX_MS = 8000;

const { watch, handles } = useKvWatchRecorder();

describe('kv watch idle check', () => {
  const idleCheck = { firstMs: FIRST_MS, maxMs: MAX_MS };

  /** A live watch of a stream whose last revision is 10. */
  function watchLive(nextStored: NextStored): { kv: FakeKv; watched: Watched } {
    const kv = new FakeKv();
    kv.streamLast = 10;
    return { kv, watched: watch(kv, { nextStored: entriesOf(nextStored), idleCheck }) };
  }

  it('asks the stream less and less often while caught up, and at firstMs again after a delivery', async () => {
    const start = Date.now();
    const askedAt: number[] = [];
    const nextStored = vi.fn<NextStored>(async () => {
      askedAt.push(Date.now() - start);
      return undefined;
    });
    const { kv } = watchLive(nextStored);

    await vi.advanceTimersByTimeAsync(31_000);
    // Doubling from 1 s, capped at 8 s.
    expect(askedAt).toEqual([1000, 3000, 7000, 15_000, 23_000, 31_000]);
    expect(nextStored).toHaveBeenLastCalledWith(10, PREFIX);

    await vi.advanceTimersByTimeAsync(500);
    kv.consumer.send(11);
    await vi.advanceTimersByTimeAsync(42_000 - 31_500);
    // The delivery brings the next check, due at 39 s, to a first period away (32.5 s), which sees the delivery;
    // from there it asks each period, doubling again.
    expect(askedAt.slice(6)).toEqual([33_500, 35_500, 39_500]);
    expect(nextStored).toHaveBeenLastCalledWith(11, PREFIX);
  });

  it('opens a new consumer after the last entry delivered when a stored message is still not delivered a period on', async () => {
    const nextStored = vi.fn<NextStored>().mockResolvedValueOnce(13).mockResolvedValue(undefined);
    const { kv, watched } = watchLive(nextStored);

    await vi.advanceTimersByTimeAsync(FIRST_MS);
    expect(nextStored).toHaveBeenCalledWith(10, PREFIX);
    kv.pending = [11, 12, 13];
    await vi.advanceTimersByTimeAsync(FIRST_MS - 1);
    expect(kv.watches).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1);
    expect(kv.watches).toHaveLength(2);
    expect(kv.watches[1]).toMatchObject({ resumeFromRevision: 11 });
    expect(watched.batches.flat()).toEqual([11, 12, 13]);
  });

  it('keeps its consumer when the stored message it found is delivered within the period', async () => {
    const nextStored = vi.fn<NextStored>().mockResolvedValueOnce(11).mockResolvedValue(undefined);
    const { kv, watched } = watchLive(nextStored);

    await vi.advanceTimersByTimeAsync(FIRST_MS);
    expect(nextStored).toHaveBeenCalledTimes(1);
    // Merely slow: the consumer sends it before the next check.
    await vi.advanceTimersByTimeAsync(FIRST_MS / 2);
    kv.consumer.send(11);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(kv.watches).toHaveLength(1);
    expect(watched.batches).toEqual([[11]]);
  });

  it('does not bring back a watch that ended on its own (its listener threw)', async () => {
    const kv = new FakeKv();
    kv.streamLast = 10;
    const nextStored = vi.fn<NextStored>(async () => 12);
    const ends: unknown[] = [];
    const handle = watchKv(
      kv.asKv(),
      PREFIX,
      { kind: 'live' },
      () => {
        throw new Error('listener failed');
      },
      (error) => ends.push(error),
      { nextStored: entriesOf(nextStored), idleCheck },
    );
    handles.push(handle);
    await handle.initialized;
    kv.consumer.send(11);
    await settle();
    expect(ends).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(60_000);
    handle.checkNow();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(kv.watches).toHaveLength(1);
    expect(nextStored).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind when its first open fails', async () => {
    const kv = new FakeKv();
    kv.failing = [new Error('stream not found')];
    const nextStored = vi.fn<NextStored>(async () => undefined);
    const watched = watch(kv, { nextStored: entriesOf(nextStored), idleCheck });
    await settle();
    expect(watched.ends).toHaveLength(1);

    // Ended on its own, the store forgets it: no stop comes, and its checks would go on each second for ever.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(nextStored).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind when a reopen ends because the connection closed', async () => {
    const { kv, watched } = watchLive(vi.fn<NextStored>(async () => undefined));
    await watched.handle.initialized;
    kv.failing = [NatsError.errorForCode(ErrorCode.ConnectionClosed)];
    await watched.handle.resume();
    expect(watched.ends).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(60_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('makes no more checks and leaves no timer once stopped', async () => {
    const nextStored = vi.fn<NextStored>(async () => undefined);
    const { watched } = watchLive(nextStored);
    await vi.advanceTimersByTimeAsync(FIRST_MS);
    expect(nextStored).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);

    watched.handle.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(nextStored).toHaveBeenCalledTimes(1);
  });

  it('schedules no further check when stopped while a check awaits the stream', async () => {
    let answer!: (revision: number | undefined) => void;
    const nextStored = vi.fn<NextStored>(() => new Promise((resolve) => (answer = resolve)));
    const { watched } = watchLive(nextStored);
    await vi.advanceTimersByTimeAsync(FIRST_MS);
    expect(nextStored).toHaveBeenCalledTimes(1);

    watched.handle.stop();
    answer(undefined);
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(nextStored).toHaveBeenCalledTimes(1);
  });
});
