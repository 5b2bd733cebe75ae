/**
 * The checks a bucket watch makes for a consumer the server moved past messages or that fell silent (the module
 * comment of src/nats/kv-watch.ts), against a fake consumer, on fake timers: what is handed over, when the stream is
 * asked, and when a new consumer opens. kv-watch-moved-consumer.nats.test.ts shows the server doing it for real.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, NatsError, type KvEntry } from 'nats';
import { GAP_READ_MAX, readGap } from '../../src/nats/kv-watch-gaps.js';
import { NUDGE_CONFIRM_MS } from '../../src/nats/kv-watch-quiet.js';
import { watchKv, type KvWatchHandle } from '../../src/nats/kv-watch.js';
import type { WatchKvOptions } from '../../src/nats/kv-watch-options.js';
import type { WatchStart } from '../../src/store/watch-start.js';
import { FakeKv, kvEntry } from '../support/fake-kv-watch.js';

const PREFIX = 'p.';
const FIRST_MS = 1000;
const MAX_MS = 8000;

/** The revision of the stream's next message after `after` under `prefix` (what the tests answer for the stream). */
type NextStored = (after: number, prefix: string) => Promise<number | undefined>;

/** `nextStored` as the watch takes it: the message itself, as an entry. */
const entriesOf =
  (next: NextStored) =>
  async (after: number, prefix: string): Promise<KvEntry | undefined> => {
    const revision = await next(after, prefix);
    return revision === undefined ? undefined : kvEntry(revision);
  };

interface Watched {
  readonly handle: KvWatchHandle;
  /** The revisions of each batch handed over, in order. */
  readonly batches: number[][];
  /** Why the watch ended on its own, if it did. */
  readonly ends: unknown[];
}

let handles: KvWatchHandle[] = [];

/** Watches `kv` under {@link PREFIX} (live changes unless `start` says), recording what is handed over. */
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

/** Runs what is due now: the consumer's open, queued entries, answers of `nextStored`. */
const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  for (const handle of handles) handle.stop();
  handles = [];
  vi.useRealTimers();
});

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
