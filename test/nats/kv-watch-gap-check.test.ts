/**
 * The check a bucket watch makes for a consumer the server moved past messages (the module comment of
 * src/nats/kv-watch.ts), against a fake consumer, on fake timers: what is handed over, when the stream is asked, and
 * when a new consumer opens; and how its reading of a gap gives up. kv-watch-moved-consumer.nats.test.ts shows the
 * server doing it for real.
 */
import { describe, expect, it, vi } from 'vitest';
import type { KvEntry } from 'nats';
import { GAP_READ_MAX, readGap } from '../../src/nats/kv-watch-gaps.js';
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

describe('kv watch gap check', () => {
  /** A live watch whose consumer started after revision 10 and sent 11 and 12. */
  async function watchPast12(nextStored: NextStored): Promise<{ kv: FakeKv; watched: Watched }> {
    const kv = new FakeKv();
    kv.streamLast = 10;
    const watched = watch(kv, { nextStored: entriesOf(nextStored) });
    await watched.handle.initialized;
    kv.consumer.send(11, 12);
    await settle();
    expect(watched.batches).toEqual([[11, 12]]);
    return { kv, watched };
  }

  it('reads the messages the server moved its consumer past and hands them over ahead of its entry', async () => {
    // The stream still holds 13 and 14: the server moved this consumer past them, to 15.
    const nextStored = vi.fn<NextStored>(async (after) => (after < 14 ? after + 1 : 15));
    const { kv, watched } = await watchPast12(nextStored);
    kv.consumer.send(15);
    await settle();

    expect(nextStored.mock.calls).toEqual([
      [12, PREFIX],
      [13, PREFIX],
      [14, PREFIX],
    ]);
    expect(watched.batches.flat()).toEqual([11, 12, 13, 14, 15]);
    // The consumer goes on from where the server moved it.
    expect(kv.watches).toHaveLength(1);
    kv.consumer.send(16);
    await settle();
    expect(watched.batches.flat()).toEqual([11, 12, 13, 14, 15, 16]);
    expect(watched.ends).toEqual([]);
  });

  it(`opens a new consumer after the last entry delivered when the gap holds more than ${GAP_READ_MAX} messages`, async () => {
    const nextStored = vi.fn<NextStored>(async (after) => after + 1);
    const { kv, watched } = await watchPast12(nextStored);
    kv.pending = [13, 14];
    kv.consumer.send(100);
    await settle();

    expect(nextStored).toHaveBeenCalledTimes(GAP_READ_MAX + 1);
    expect(kv.watches).toHaveLength(2);
    expect(kv.watches[1]).toMatchObject({ resumeFromRevision: 13 });
    expect(kv.consumers[0]!.stopped).toBe(true);
    // Nothing read one by one went out: the new consumer sends it all, once, in order.
    expect(watched.batches.flat()).toEqual([11, 12, 13, 14]);
  });

  it('asks again, backing off, while the stream does not answer about a gap; the entry waits', async () => {
    let failures = 2;
    const nextStored = vi.fn<NextStored>(async (after) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('JetStream not answering');
      }
      return after === 12 ? 13 : 15;
    });
    const { kv, watched } = await watchPast12(nextStored);
    kv.consumer.send(15);
    await settle();
    expect(nextStored).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(nextStored).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(nextStored).toHaveBeenCalledTimes(2);
    expect(watched.batches.flat()).toEqual([11, 12]);

    await vi.advanceTimersByTimeAsync(200);
    expect(nextStored).toHaveBeenCalledTimes(4);
    // Answered: what waited for the answer goes out a turn later.
    await vi.runOnlyPendingTimersAsync();
    expect(watched.batches.flat()).toEqual([11, 12, 13, 15]);
    expect(kv.watches).toHaveLength(1);
  });

  it('asks about consecutive gaps together, and hands their entries over in order whatever order the answers come in', async () => {
    const answers = new Map<number, (revision: number | undefined) => void>();
    const nextStored = vi.fn<NextStored>((after) => new Promise((resolve) => answers.set(after, resolve)));
    const { kv, watched } = await watchPast12(nextStored);
    // A backlog whose gaps are messages removed before the consumer sent them (as after a resume).
    kv.consumer.send(15, 18, 21);
    await settle();
    expect(nextStored.mock.calls.map(([after]) => after)).toEqual([12, 15, 18]);

    answers.get(18)!(21);
    answers.get(15)!(undefined);
    await vi.runOnlyPendingTimersAsync();
    expect(watched.batches.flat()).toEqual([11, 12]);
    answers.get(12)!(15);
    await vi.runOnlyPendingTimersAsync();
    expect(watched.batches.flat()).toEqual([11, 12, 15, 18, 21]);
    expect(kv.watches).toHaveLength(1);
  });

  it('has at most 16 gap checks under way at once, and starts the next as one is answered', async () => {
    const answers: ((revision: number | undefined) => void)[] = [];
    const nextStored = vi.fn<NextStored>(() => new Promise((resolve) => answers.push(resolve)));
    const { kv, watched } = await watchPast12(nextStored);
    kv.consumer.send(...Array.from({ length: 40 }, (_, i) => 14 + 2 * i));
    await settle();
    expect(nextStored).toHaveBeenCalledTimes(16);

    answers[0]!(undefined);
    await settle();
    expect(nextStored).toHaveBeenCalledTimes(17);
    expect(watched.batches.flat()).toEqual([11, 12, 14]);
  });

  it('hands nothing over after the watch ended, not even what it took after a check', async () => {
    let answer!: (revision: number | undefined) => void;
    const nextStored = vi.fn<NextStored>(() => new Promise((resolve) => (answer = resolve)));
    const { kv, watched } = await watchPast12(nextStored);
    kv.consumer.send(15);
    await settle();
    answer(undefined);
    // The answer is in and 15 taken, to go out a turn later; in that turn the consumer fails first.
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    kv.consumer.push(() => {
      throw new Error('consumer deleted');
    });
    await vi.runOnlyPendingTimersAsync();
    expect(watched.ends).toHaveLength(1);
    expect(watched.batches.flat()).toEqual([11, 12]);
  });

  it.each([
    ['the entry itself', 15],
    ['a later revision', 17],
    ['nothing', undefined],
  ])('hands the entry over when the stream holds nothing in the gap (it answers %s)', async (_, answer) => {
    const nextStored = vi.fn<NextStored>(async () => answer);
    const { kv, watched } = await watchPast12(nextStored);
    // 13 and 14 were other keys' writes, or are purged: nothing was skipped.
    kv.consumer.send(15);
    await settle();

    expect(nextStored).toHaveBeenCalledWith(12, PREFIX);
    expect(kv.watches).toHaveLength(1);
    expect(watched.batches.flat()).toEqual([11, 12, 15]);
  });

  it('does not check the gaps between initial entries, which skip the older revisions of each key', async () => {
    const kv = new FakeKv();
    kv.pending = [2, 5, 9];
    // The stream holds every older revision: checked, each gap would look skipped.
    const nextStored = vi.fn<NextStored>(async (after) => after + 1);
    const watched = watch(kv, { nextStored: entriesOf(nextStored) }, { kind: 'current' });
    await watched.handle.initialized;
    await settle();

    expect(watched.batches).toEqual([[2, 5, 9]]);
    expect(nextStored).not.toHaveBeenCalled();
    expect(kv.watches).toHaveLength(1);
  });
});

describe('readGap', () => {
  it('gives up on a closed connection rather than ask again for ever', async () => {
    const next = vi.fn(async (): Promise<KvEntry | undefined> => {
      throw Object.assign(new Error('connection closed'), { code: 'CONNECTION_CLOSED' });
    });
    await expect(readGap(12, 15, next, () => true)).resolves.toBeUndefined();
    expect(next).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
