/**
 * The default of a node's `unavailableRetryMs`: a read or write of a bucket whose stream no leader answers waits 15 s
 * (the documented `@default 15000`), retrying, before it fails with `store_unavailable`. No test held the default
 * before: those that ride out an outage give their own bound.
 *
 * Held without waiting 15 real seconds: the retries' deadlines are on `performance.now()`, which the test fakes alone
 * (NATS and every timer stay real) and moves by hand, while a proxy holds the node's reads of one key, so those go
 * unanswered as in a leader election. The clock stands still unless moved, so each step is decided by where it was
 * moved to, not by how fast anything ran.
 */
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/index.js';
import { startHoldingProxy, type HoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

let proxy: HoldingProxy | undefined;

// Registered after the fixture's hooks, so it runs before them: the node stops on the real clock, no read held.
afterEach(() => {
  vi.useRealTimers();
  proxy?.release();
});

describe("a node's unavailableRetryMs", () => {
  it('has an operation retry an unanswered stream for 15000 ms, then fail with store_unavailable, when left out', async () => {
    const buckets = fx().buckets();
    const bucket = buckets.variablesBucket;
    // The reads of one key only (a define reads the variable first): the node's other requests are answered.
    const read = `$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.s1.x`;
    let reads = 0;
    proxy = await startHoldingProxy(fx().server.url, (subject) => {
      if (subject !== read) return false;
      reads += 1;
      return true;
    });
    onTestFinished(() => proxy?.close());
    // A call timeout far past the test's length: the write's own wait (it plus the retries' bound) must not end it.
    const runtime = await fx().runtime(buckets, { servers: proxy.url, callTimeoutMs: 120_000 });
    const session = await runtime.session('s1');
    proxy.hold();

    vi.useFakeTimers({ toFake: ['performance'] });
    let failure: unknown;
    let settled = false;
    const defining = session.defineVariable('x', 'integer', 1).then(
      () => (settled = true),
      (error: unknown) => ((failure = error), (settled = true)),
    );
    // The first read went out: the operation's deadline is set, on the clock standing still since.
    await waitFor(() => reads === 1, { message: 'the first read sent' });

    // 1 ms short of the default: once the held read times out (5 s of real time), the operation tries again.
    vi.advanceTimersByTime(14_999);
    await waitFor(() => settled || reads === 2, { timeout: 15_000, message: 'the read tried again, or given up' });
    expect({ failure, reads }).toEqual({ failure: undefined, reads: 2 });

    // At the default: once the second read times out, the operation gives up instead of trying a third.
    vi.advanceTimersByTime(1);
    await waitFor(() => settled || reads === 3, { timeout: 15_000, message: 'the operation given up' });
    expect({ settled, reads }).toEqual({ settled: true, reads: 2 });
    await defining;
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(failure).toMatchObject({
      code: 'store_unavailable',
      bucket,
      key: 's1.x',
      waitedMs: 15_000,
      outcome: 'not_applied',
    });
  }, 40_000);
});
