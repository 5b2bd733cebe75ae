import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RevisionWaiters, waitUnlessUnknown } from '../../src/nats/revision-waiters.js';

/** Longer than any test runs: only `advance` (or advancing the fake clock) ends these waits. */
const LONG_MS = 60_000;

/** Starts a wait for each revision, in the order given, recording each revision whose wait is released. */
function startWaits(waiters: RevisionWaiters, revisions: readonly number[]): { released: number[] } {
  const released: number[] = [];
  for (const revision of revisions) {
    void waiters.wait(revision, LONG_MS, false).then((reached) => {
      if (reached) released.push(revision);
    });
  }
  return { released };
}

/** Lets the promises the waiters resolved run their callbacks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Found by a review: read-your-writes waits were only seen through nodes, where requests mostly arrive in revision
 * order, so a list that kept waits in the order they began (not by revision) passed every test.
 */
describe('RevisionWaiters', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => void vi.useRealTimers());

  it('releases a wait for a lower revision that began after a wait for a higher one, once the lower is applied', async () => {
    const waiters = new RevisionWaiters();
    const { released } = startWaits(waiters, [10, 5]);
    waiters.advance(5);
    await settle();
    expect(released).toEqual([5]);
    expect(waiters.size).toBe(1);
    waiters.advance(10);
    await settle();
    expect(released).toEqual([5, 10]);
    expect(waiters.size).toBe(0);
  });

  it('releases every wait at or below the applied revision, whatever order the waits began in', async () => {
    const waiters = new RevisionWaiters();
    const { released } = startWaits(waiters, [7, 3, 9, 3, 5]);
    waiters.advance(5);
    await settle();
    expect(released.sort((a, b) => a - b)).toEqual([3, 3, 5]);
    expect(waiters.size).toBe(2);
  });

  it('resolves false at its timeout and stops waiting', async () => {
    const waiters = new RevisionWaiters();
    const reached = waiters.wait(4, 1000, false);
    vi.advanceTimersByTime(1000);
    expect(await reached).toBe(false);
    expect(waiters.size).toBe(0);
  });
});

/**
 * A wait the grace left on, for a revision the bucket holds: the node counts the messages before it applied only when
 * the bucket keeps none of them up to the revision. Found by mutation testing: counting them applied when the first
 * kept message is the revision itself (not yet delivered) passed every test, and would answer from a state without it.
 */
describe('waitUnlessUnknown', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => void vi.useRealTimers());

  /** Waits for revision 5 with the node at 3 and the bucket at 9, whose first kept message after 3 is `next`. */
  async function skippedFor(next: number | undefined): Promise<number[]> {
    const skipped: number[] = [];
    const waiters = new RevisionWaiters();
    void waitUnlessUnknown(5, waiters.wait(5, LONG_MS, false), LONG_MS, {
      bucket: 'vars',
      header: 'Tether-Min-Revision',
      lastRevision: () => Promise.resolve(9),
      applied: () => 3,
      graceMs: 100,
      nextKept: () => Promise.resolve(next),
      skipRemoved: (upTo) => skipped.push(upTo),
    });
    vi.advanceTimersByTime(100);
    await settle();
    return skipped;
  }

  it('counts the revisions up to the one waited for applied only when the bucket keeps none of them', async () => {
    expect(await skippedFor(undefined)).toEqual([5]);
    expect(await skippedFor(6)).toEqual([5]);
    // The revision itself is kept: its watch delivers it, and the wait ends then.
    expect(await skippedFor(5)).toEqual([]);
    expect(await skippedFor(4)).toEqual([]);
  });
});
