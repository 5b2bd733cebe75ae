import type { JetStreamManager } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_SKEW_MS } from '../../src/nats/bucket-stream.js';
import { LateRemovals, MAX_WAITING, REMOVAL_DELAY_MS, type LateRemovalsDeps } from '../../src/nats/late-removals.js';
import { RemovalsBacklogError } from '../../src/index.js';

/** The messages of a fake stream by sequence: each one's subject, and when the stream took it. */
type Held = Map<number, { subject: string; time: Date }>;

/** Messages of bucket `m` on these keys, at sequences 1, 2, 3… taken now. */
const heldOn = (...keys: string[]): Held =>
  new Map(keys.map((key, i) => [i + 1, { subject: `$KV.m.${key}`, time: new Date() }]));

/**
 * Late removals in bucket `m` of a fake stream holding `held`, whose deletes fail while `failing` says so;
 * `deleted` lists the sequences deleted, in order.
 */
function removalsOn(held: Held, deps: Partial<LateRemovalsDeps> = {}, failing: () => boolean = () => false) {
  const deleted: number[] = [];
  const manager = {
    streams: {
      async getMessage(_stream: string, query: { seq: number; next_by_subj: string }) {
        const seqs = [...held.keys()].sort((a, b) => a - b);
        const seq = seqs.find((s) => s >= query.seq && held.get(s)!.subject === query.next_by_subj);
        if (seq === undefined) throw Object.assign(new Error('no message found'), { code: '404' });
        return { seq, ...held.get(seq)! };
      },
      async deleteMessage(_stream: string, seq: number) {
        if (failing()) throw new Error('JetStream not available');
        deleted.push(seq);
        return held.delete(seq);
      },
    },
  } as unknown as JetStreamManager;
  const removals = new LateRemovals({
    manager: async () => manager,
    bucket: 'm',
    replicatedWindowMs: undefined,
    report: () => {},
    ...deps,
  });
  return { removals, deleted };
}

describe('late removals of messages done with', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('removes once due, not before, and only messages of its key up to the revision given', async () => {
    const held = heldOn('s1.qa', 's1.other', 's1.qa');
    const { removals, deleted } = removalsOn(held);
    removals.removeLater('s1.qa', 1);

    await vi.advanceTimersByTimeAsync(REMOVAL_DELAY_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([1]);
    expect([...held.keys()]).toEqual([2, 3]);
    removals.close();
  });

  it('tries a failed removal again quietly, and reports one given up on after five attempts, once a series', async () => {
    let failures = 2;
    const held = heldOn('s1.a', 's1.b', 's1.c', 's1.d', 's1.e');
    const reported: unknown[] = [];
    const report = (error: unknown): void => void reported.push(error);
    const { removals, deleted } = removalsOn(held, { delayMs: 100, report }, () => failures-- > 0);
    removals.removeLater('s1.a', 1);
    removals.removeLater('s1.b', 2);

    await vi.advanceTimersByTimeAsync(100);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(deleted.sort()).toEqual([1, 2]);
    expect(reported).toEqual([]);

    failures = Infinity;
    removals.removeLater('s1.c', 3);
    removals.removeLater('s1.d', 4);
    await vi.advanceTimersByTimeAsync(100 * 10);
    expect(reported).toHaveLength(1);
    expect(held.has(3) && held.has(4)).toBe(true);
    // Given up on: no timer is left running for them.
    expect(vi.getTimerCount()).toBe(0);
    // A success ends the series: the next one given up on is reported again.
    failures = 0;
    removals.removeLater('s1.c', 3);
    await vi.advanceTimersByTimeAsync(100);
    failures = Infinity;
    removals.removeLater('s1.e', 5);
    await vi.advanceTimersByTimeAsync(100 * 10);
    expect(reported).toHaveLength(2);
    removals.close();
  });

  // Found by a review: removals fell due on the wall clock, so a clock stepped back held them back by the step.
  it('removes once due when the system clock is stepped back meanwhile', async () => {
    const held = heldOn('s1.qa');
    const { removals, deleted } = removalsOn(held);
    removals.removeLater('s1.qa', 1);
    // NTP steps the wall clock back an hour; the monotonic clock does not move.
    vi.setSystemTime(Date.now() - 3_600_000);

    await vi.advanceTimersByTimeAsync(REMOVAL_DELAY_MS);
    expect(deleted).toEqual([1]);
    removals.close();
  });

  it('takes a removal that goes further than the one waiting for its key, and not one that goes less far', async () => {
    const held = heldOn('s1.x', 's1.x', 's1.x');
    const { removals, deleted } = removalsOn(held);
    removals.removeLater('s1.x', 2);
    removals.removeLater('s1.x', 1);

    await vi.advanceTimersByTimeAsync(REMOVAL_DELAY_MS);
    expect(deleted).toEqual([1, 2]);
    expect([...held.keys()]).toEqual([3]);
    removals.close();
  });

  it('on a replicated stream waits out the duplicate window and the clock allowance', async () => {
    const window = 120_000;
    const { removals, deleted } = removalsOn(heldOn('s1.qa'), { replicatedWindowMs: window });
    removals.removeLater('s1.qa', 1);

    await vi.advanceTimersByTimeAsync(window + CLOCK_SKEW_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([1]);
    removals.close();
  });

  it('reports once that removals are left undone when too many wait, and again once it happens again', async () => {
    const reported: unknown[] = [];
    const { removals } = removalsOn(heldOn(), { report: (error) => void reported.push(error) });
    for (let i = 0; i <= MAX_WAITING + 10; i++) removals.removeLater(`s1.k${i}`, 1);

    expect(reported).toHaveLength(1);
    // Found by the error-path audit: told as a plain Error, with no code for an onError to tell it by.
    expect(reported[0]).toBeInstanceOf(RemovalsBacklogError);
    expect(reported[0]).toMatchObject({
      code: 'removals_backlog',
      details: { bucket: expect.any(String), limit: MAX_WAITING, key: `s1.k${MAX_WAITING}` },
    });
    expect(String(reported[0])).toContain(`'s1.k${MAX_WAITING}'`);
    // Due, done (each key holds nothing), and so fewer wait: a new overflow is news.
    await vi.advanceTimersByTimeAsync(REMOVAL_DELAY_MS);
    for (let i = 0; i <= MAX_WAITING + 10; i++) removals.removeLater(`s2.k${i}`, 1);
    expect(reported).toHaveLength(2);
    removals.close();
  });

  it('does not take a removal asked for while a further one of its key is under way, and retries that one', async () => {
    let failures = 1;
    const held = heldOn('s1.x', 's1.x', 's1.x');
    let asked = false;
    const { removals, deleted } = removalsOn(held, { delayMs: 100 }, () => {
      // While the removal up to 3 is under way, one up to 1 is asked for (a stale read of an older marker).
      if (!asked) removals.removeLater('s1.x', 1);
      asked = true;
      return failures-- > 0;
    });
    removals.removeLater('s1.x', 3);

    await vi.advanceTimersByTimeAsync(100);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(deleted).toEqual([1, 2, 3]);
    removals.close();
  });

  it('leaves what waits once closed, and takes nothing more', async () => {
    const { removals, deleted } = removalsOn(heldOn('s1.qa', 's1.qa'));
    removals.removeLater('s1.qa', 1);
    removals.close();
    removals.removeLater('s1.qa', 2);

    await vi.advanceTimersByTimeAsync(REMOVAL_DELAY_MS * 2);
    expect(deleted).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
