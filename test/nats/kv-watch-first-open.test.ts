/**
 * A bucket watch's first open (src/nats/kv-watch.ts) on a cluster that has no JetStream leader answering, against a
 * fake consumer on fake timers: with `firstOpenRetry` it tries again until the store's bound and then fails with
 * `store_unavailable` (operation `watch`) naming the bucket and the keys; any other failure fails it at once.
 */
import { ErrorCode, NatsError } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { watchKv, type KvWatchHandle } from '../../src/nats/kv-watch.js';
import { FakeKv } from '../support/fake-kv-watch.js';

const noResponders = () => NatsError.errorForCode(ErrorCode.NoResponders);
const RETRY_MS = 3000;

let handle: KvWatchHandle | undefined;

beforeEach(() => void vi.useFakeTimers());
afterEach(() => {
  handle?.stop();
  vi.useRealTimers();
});

/** A watch of `p.` on `kv` whose first open waits up to {@link RETRY_MS} for the cluster; its ends, recorded. */
function firstOpen(kv: FakeKv): { ends: unknown[]; settled: Promise<unknown> } {
  const ends: unknown[] = [];
  handle = watchKv(
    kv.asKv(),
    'p.',
    { kind: 'current' },
    () => {},
    (error) => ends.push(error),
    { bucket: { name: 'tether_vars' }, firstOpenRetry: { retryMs: RETRY_MS } },
  );
  const settled = handle.initialized.then(
    () => 'opened',
    (error: unknown) => error,
  );
  return { ends, settled };
}

describe("a bucket watch's first open while the cluster has no leader", () => {
  it('gives up once the bound is over, with store_unavailable naming the bucket, the keys and the wait', async () => {
    const kv = new FakeKv();
    kv.failing = Array.from({ length: 1000 }, noResponders);
    const { ends, settled } = firstOpen(kv);
    await vi.advanceTimersByTimeAsync(RETRY_MS - 100);
    expect(kv.watches.length).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(2000);

    const failure = await settled;
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(failure).toMatchObject({
      code: 'store_unavailable',
      details: { bucket: 'tether_vars', key: 'p.', operation: 'watch', outcome: 'not_applied' },
    });
    const { waitedMs } = (failure as StoreUnavailableError).details as { waitedMs: number };
    expect(waitedMs).toBeGreaterThanOrEqual(RETRY_MS);
    expect((failure as Error).message).toContain("KV bucket 'tether_vars'");
    expect((failure as Error).message).toContain("a watch of the keys under 'p.'");
    // Its end is told once, with the same error, and no attempt is made after it.
    expect(ends).toEqual([failure]);
    const attempts = kv.watches.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(kv.watches).toHaveLength(attempts);
  });

  it('opens when the cluster answers again within the bound', async () => {
    const kv = new FakeKv();
    kv.failing = [noResponders(), noResponders()];
    kv.pending = [1, 2];
    const { ends, settled } = firstOpen(kv);
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(await settled).toBe('opened');
    expect(kv.watches).toHaveLength(3);
    expect(ends).toEqual([]);
  });

  it('fails at once, with the failure itself, when it is not the cluster being unavailable', async () => {
    const kv = new FakeKv();
    const denied = new NatsError(
      "Permissions Violation for Subscription to '_INBOX.x'",
      ErrorCode.PermissionsViolation,
    );
    kv.failing = [denied];
    const { ends, settled } = firstOpen(kv);
    await vi.advanceTimersByTimeAsync(0);
    expect(await settled).toBe(denied);
    expect(kv.watches).toHaveLength(1);
    expect(ends).toEqual([denied]);
  });
});
