/**
 * The check a bucket watch makes when a waiting reader asks for one (`checkNow`, the module comment of
 * src/nats/kv-watch.ts), against a fake consumer, on fake timers: when the stream is asked and when a new consumer
 * opens.
 */
import { describe, expect, it, vi } from 'vitest';
import { NUDGE_CONFIRM_MS } from '../../src/nats/kv-watch-quiet.js';
import { FakeKv } from '../support/fake-kv-watch.js';
import {
  PREFIX,
  entriesOf,
  settle,
  useKvWatchRecorder,
  type NextStored,
  type Watched,
} from '../support/kv-watch-recorder.js';

const { watch } = useKvWatchRecorder();

describe('kv watch check asked for by a waiting reader (checkNow)', () => {
  /** A live watch whose consumer started after revision 10, with no idle check to get in the way. */
  async function watchQuiet(nextStored: NextStored): Promise<{ kv: FakeKv; watched: Watched }> {
    const kv = new FakeKv();
    kv.streamLast = 10;
    const watched = watch(kv, { nextStored: entriesOf(nextStored) });
    await settle();
    return { kv, watched };
  }

  it('opens a new consumer after the last entry delivered when what the stream holds is still not delivered', async () => {
    const nextStored = vi.fn<NextStored>(async () => 12);
    const { kv, watched } = await watchQuiet(nextStored);

    watched.handle.checkNow();
    await settle();
    expect(nextStored).toHaveBeenCalledWith(10, PREFIX);
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS - 1);
    expect(kv.watches).toHaveLength(1);

    kv.pending = [11, 12];
    await vi.advanceTimersByTimeAsync(1);
    expect(kv.watches).toHaveLength(2);
    expect(kv.watches[1]).toMatchObject({ resumeFromRevision: 11 });
    expect(watched.batches.flat()).toEqual([11, 12]);
  });

  it('keeps its consumer when it gets there, slowly: it is alive', async () => {
    const nextStored = vi.fn<NextStored>(async () => 12);
    const { kv, watched } = await watchQuiet(nextStored);

    watched.handle.checkNow();
    await settle();
    kv.consumer.send(11);
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS);
    kv.consumer.send(12);
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS * 10);
    expect(kv.watches).toHaveLength(1);
    expect(watched.batches.flat()).toEqual([11, 12]);
  });

  it('asks once for calls that overlap, and opens nothing when the stream holds nothing new', async () => {
    const nextStored = vi.fn<NextStored>(async () => undefined);
    const { kv, watched } = await watchQuiet(nextStored);

    watched.handle.checkNow();
    watched.handle.checkNow();
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS * 10);
    expect(nextStored).toHaveBeenCalledTimes(1);
    expect(kv.watches).toHaveLength(1);
  });

  it('waits while the watch delivers other entries, and opens a new consumer once it falls quiet short of the message', async () => {
    const nextStored = vi.fn<NextStored>(async () => 20);
    const { kv, watched } = await watchQuiet(nextStored);

    watched.handle.checkNow();
    await settle();
    // Draining a backlog: each spell brings entries, none reaches 20 (the server moved the consumer past it).
    for (const revision of [11, 12, 13]) {
      kv.consumer.send(revision);
      await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS);
      expect(kv.watches).toHaveLength(1);
    }
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS);
    expect(kv.watches).toHaveLength(2);
    expect(kv.watches[1]).toMatchObject({ resumeFromRevision: 14 });
  });

  it('opens nothing, and leaves no timer, when the watch is stopped while it confirms', async () => {
    const nextStored = vi.fn<NextStored>(async () => 12);
    const { kv, watched } = await watchQuiet(nextStored);

    watched.handle.checkNow();
    await settle();
    watched.handle.stop();
    await vi.advanceTimersByTimeAsync(NUDGE_CONFIRM_MS * 10);
    expect(kv.watches).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
