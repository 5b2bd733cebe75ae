/**
 * A bucket whose stream keeps every write of a key (its max messages per subject -1, as `nats stream edit KV_<bucket>
 * --max-msgs-per-subject -1` sets, or 0, which the server stores as -1). A node took such a variables bucket, and read
 * its history as the last -1 writes of a key: every history and rollback left out the oldest version, silently
 * (`variable 'x' has no version 1 in its history` for a version the stream held). A node keeps 1 to 64 writes per key;
 * such a bucket is now refused at start with `bucket_config_mismatch` (`historyDepth`), naming the bucket, and left
 * as it is.
 */
import { describe, expect, it } from 'vitest';
import { BucketConfigMismatchError, Runtime } from '../../src/index.js';
import { useBucketSettingsFixture } from '../support/bucket-settings-fixture.js';

const { server, nc, names, streamConfig, bucketExists } = useBucketSettingsFixture();

describe('a bucket that keeps every write of a key', () => {
  it.each([
    ['variablesBucket', -1],
    ['variablesBucket', 0],
    ['sessionsBucket', -1],
    ['modulesBucket', -1],
  ] as const)('refuses a %s with max messages per subject %i at start, naming it', async (role, perSubject) => {
    const ids = names();
    const buckets = {
      variablesBucket: ids.bucket,
      sessionsBucket: ids.sessionsBucket,
      modulesBucket: ids.modulesBucket,
    };
    const bucket = buckets[role];
    await nc()
      .jetstream()
      .views.kv(bucket, { history: role === 'variablesBucket' ? 64 : 1 });
    const jsm = await nc().jetstreamManager();
    await jsm.streams.update(`KV_${bucket}`, { ...(await streamConfig(bucket)), max_msgs_per_subject: perSubject });

    const error = await Runtime.start({ nats: { servers: server().url, ...buckets }, onError: () => {} }).then(
      async (runtime) => {
        await runtime.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({ code: 'bucket_config_mismatch', bucket, setting: 'historyDepth', actual: -1 });
    expect((error as Error).message).toContain(`KV bucket '${bucket}' exists with historyDepth -1`);
    expect((error as Error).message).toContain('every write of a key');
    expect((await streamConfig(bucket)).max_msgs_per_subject).toBe(-1);
    const others = Object.values(buckets).filter((name) => name !== bucket);
    expect(await Promise.all(others.map(bucketExists))).toEqual([false, false]);
  });
});
