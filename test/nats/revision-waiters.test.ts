import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RevisionWaiters } from '../../src/nats/revision-waiters.js';

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
