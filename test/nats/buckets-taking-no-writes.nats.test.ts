/**
 * Buckets whose streams take no writes: a mirror of another bucket (its stream has no subjects of its own, as
 * `views.kv(name, { mirror })` or `nats kv add --mirror` makes it) and a sealed one (`nats stream seal`). A node
 * started on a mirrored variables or modules bucket failed with nats.js's bare `NatsError` ("consumer filter subject
 * is not a valid subset of the interest subjects", naming no bucket), told to `onError` too; on a mirrored sessions
 * bucket it started, and every session open then waited `unavailableRetryMs` to fail with `store_unavailable`, "no
 * JetStream leader answering". A sealed bucket was refused as one denying deletes, the advice then to make it anew
 * as if `nats kv add` had. Now both are refused at start with `bucket_config_mismatch` naming the bucket and
 * `mirror` or `sealed`, before any bucket is created.
 */
import type { StreamConfig } from 'nats';
import { describe, expect, it } from 'vitest';
import { BucketConfigMismatchError } from '../../src/index.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

async function streamConfig(bucket: string): Promise<StreamConfig | undefined> {
  const jsm = await nc().jetstreamManager();
  return jsm.streams.info(`KV_${bucket}`).then(
    (info) => info.config,
    () => undefined,
  );
}

/** A node's start on the buckets: the error it failed with (and what `onError` heard), or `undefined`. */
async function startFailure(buckets: TestBuckets): Promise<{ error: unknown; told: unknown[] }> {
  const told: unknown[] = [];
  const error = await fx()
    .node(buckets, { onError: (e) => told.push(e), nats: { unavailableRetryMs: 2000 } })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  return { error, told };
}

const ROLES = ['variablesBucket', 'sessionsBucket', 'modulesBucket'] as const;

describe('buckets whose streams take no writes', () => {
  it.each(ROLES)('refuses a %s that mirrors another bucket, naming it, and creates nothing', async (role) => {
    const buckets = fx().buckets();
    const bucket = buckets[role];
    const history = role === 'variablesBucket' ? 64 : 1;
    await nc().jetstream().views.kv(`${bucket}_origin`, { history });
    await nc()
      .jetstream()
      .views.kv(bucket, { history, mirror: { name: `KV_${bucket}_origin` } });

    const started = Date.now();
    const { error, told } = await startFailure(buckets);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({
      code: 'bucket_config_mismatch',
      bucket,
      setting: 'mirror',
      configured: 0,
      actual: 1,
    });
    expect((error as Error).message).toContain(`KV bucket '${bucket}' exists with mirror 1`);
    expect((error as Error).message).toContain('takes no writes');
    expect(told).toEqual([]);
    const others = Object.values(buckets).filter((name) => name !== bucket);
    expect(await Promise.all(others.map(streamConfig))).toEqual([undefined, undefined]);
  });

  it('refuses a sealed bucket as sealed, not as one denying deletes', async () => {
    const buckets = fx().buckets();
    const bucket = buckets.variablesBucket;
    await nc().jetstream().views.kv(bucket, { history: 64 });
    const jsm = await nc().jetstreamManager();
    const config = (await streamConfig(bucket))!;
    // `sealed` is no field of nats.js's update type, though the server takes it there (`nats stream seal` does).
    const sealed: StreamConfig = { ...config, sealed: true };
    await jsm.streams.update(`KV_${bucket}`, sealed);

    const { error } = await startFailure(buckets);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({ bucket, setting: 'sealed', configured: 0, actual: 1 });
    expect((error as Error).message).toContain(`KV bucket '${bucket}' exists with sealed 1`);
    expect((await streamConfig(bucket))?.sealed).toBe(true);
  });
});
