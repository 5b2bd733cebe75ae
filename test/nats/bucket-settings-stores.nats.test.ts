/**
 * The settings of the buckets a node's stores open (history depth, replicas, limits that drop values unseen): given
 * ones on a new bucket, an existing bucket judged against them, and settings out of bounds refused before anything is
 * created.
 */
import { describe, expect, it } from 'vitest';
import { BucketConfigMismatchError, ValidationError, errorFromJSON } from '../../src/index.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import { openModuleSpecs } from '../../src/nats/module-specs.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { useBucketSettingsFixture } from '../support/bucket-settings-fixture.js';

const { nc, names, streamConfig, bucketExists, existingBucket } = useBucketSettingsFixture();

describe('kv bucket settings', () => {
  it('creates the variables bucket with the history depth and replicas given', async () => {
    const { bucket } = names();
    const store = await createKvStore<number>(nc(), { bucket, historyDepth: 5, replicas: 1 });
    const config = await streamConfig(bucket);
    expect([config.max_msgs_per_subject, config.num_replicas]).toEqual([5, 1]);
    let revision = await store.create('s.a', 0);
    for (let i = 1; i <= 6; i += 1) revision = await store.update('s.a', i, revision);
    expect(await store.history('s.a')).toHaveLength(5);
    await store.close();
  });

  it('refuses an existing bucket whose history is not the historyDepth given, and leaves it unchanged', async () => {
    const { bucket } = names();
    await existingBucket(bucket, { history: 1 });
    const error = await createKvStore(nc(), { bucket, historyDepth: 64 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({
      code: 'bucket_config_mismatch',
      bucket,
      setting: 'historyDepth',
      configured: 64,
      actual: 1,
    });
    expect((error as Error).message).toContain(
      `KV bucket '${bucket}' exists with historyDepth 1, not the configured 64`,
    );
    expect((await streamConfig(bucket)).max_msgs_per_subject).toBe(1);
    const kv = await nc().jetstream().views.kv(bucket);
    expect(new TextDecoder().decode((await kv.get('kept'))?.value)).toBe('"as it was"');
  });

  // Found by a review: on a variables bucket made with a TTL, variables vanished with no delete marker, one node
  // serving a value another said was not found, and every write failing as "kept changing under the write".
  it.each([
    ['ttl', { ttl: 60_000 }, {}, 60_000],
    ['maxBucketSize', { maxBucketSize: 10_000_000 }, {}, 10_000_000],
    ['maxMessages', {}, { max_msgs: 1_000 }, 1_000],
  ] as const)(
    'refuses an existing bucket with a %s, which drops values unseen, whatever the settings given',
    async (limit, kvOptions, streamLimits, actual) => {
      const { bucket, sessionsBucket } = names();
      for (const name of [bucket, sessionsBucket]) {
        await nc()
          .jetstream()
          .views.kv(name, { history: 1, ...kvOptions });
        if ('max_msgs' in streamLimits) {
          const jsm = await nc().jetstreamManager();
          await jsm.streams.update(`KV_${name}`, { ...(await streamConfig(name)), ...streamLimits });
        }
      }
      for (const open of [
        () => createKvStore(nc(), { bucket }),
        () => createSessionDirectory(nc(), { bucket: sessionsBucket }),
      ]) {
        const error = await open().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BucketConfigMismatchError);
        expect(error).toMatchObject({ code: 'bucket_config_mismatch', setting: limit, configured: 0, actual });
        expect((error as Error).message).toMatch(
          new RegExp(`exists with ${limit} ${actual}, which drops values without a delete marker.*left unchanged`),
        );
      }
      expect((await streamConfig(bucket)).max_msgs_per_subject).toBe(1);
    },
  );

  it('refuses existing variables, sessions and modules buckets with other replicas than given', async () => {
    const { bucket, sessionsBucket, modulesBucket } = names();
    for (const name of [bucket, sessionsBucket, modulesBucket]) await existingBucket(name, { history: 1 });
    const opens: [string, () => Promise<unknown>][] = [
      [bucket, () => createKvStore(nc(), { bucket, replicas: 3 })],
      [sessionsBucket, () => createSessionDirectory(nc(), { bucket: sessionsBucket, replicas: 3 })],
      [modulesBucket, () => openModuleSpecs(nc(), { bucket: modulesBucket, replicas: 3 })],
    ];
    for (const [name, open] of opens) {
      const error = await open().catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(BucketConfigMismatchError);
      expect(error, name).toMatchObject({ bucket: name, setting: 'replicas', configured: 3, actual: 1 });
      expect((await streamConfig(name)).num_replicas, name).toBe(1);
    }
  });

  it('takes an existing bucket as it is when no setting is given, or the same one', async () => {
    const { bucket, sessionsBucket, modulesBucket } = names();
    for (const name of [bucket, sessionsBucket, modulesBucket]) await existingBucket(name, { history: 1 });
    const store = await createKvStore<number>(nc(), { bucket });
    const r1 = await store.create('s.a', 1);
    await store.update('s.a', 2, r1);
    // The bucket's history, not the default 64, decides what is kept.
    expect(await store.history('s.a')).toHaveLength(1);
    await store.close();
    await (await createKvStore(nc(), { bucket, historyDepth: 1, replicas: 1 })).close();
    await createSessionDirectory(nc(), { bucket: sessionsBucket, replicas: 1 });
    await openModuleSpecs(nc(), { bucket: modulesBucket });
    expect((await streamConfig(bucket)).max_msgs_per_subject).toBe(1);
  });

  it('refuses a history depth or replicas out of bounds before creating anything', async () => {
    for (const settings of [
      { historyDepth: 0 },
      { historyDepth: 65 },
      { historyDepth: 2.5 },
      { replicas: 0 },
      { replicas: 6 },
    ]) {
      const { bucket } = names();
      const error = await createKvStore(nc(), { bucket, ...settings }).catch((e: unknown) => e);
      expect(error, JSON.stringify(settings)).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(`${Object.keys(settings)[0]} of KV bucket '${bucket}'`);
      expect(await bucketExists(bucket)).toBe(false);
    }
    const { sessionsBucket } = names();
    await expect(createSessionDirectory(nc(), { bucket: sessionsBucket, replicas: 0 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('refuses replicas a single server cannot keep as a configuration error, creating nothing', async () => {
    const { bucket, modulesBucket } = names();
    for (const open of [
      () => createKvStore(nc(), { bucket, replicas: 3 }),
      () => openModuleSpecs(nc(), { bucket: modulesBucket, replicas: 2 }),
    ]) {
      const error = await open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', details: { setting: 'replicas' } });
      expect((error as Error).message).toMatch(/cannot be created with replicas \d: this NATS server is not part of/);
    }
    expect([await bucketExists(bucket), await bucketExists(modulesBucket)]).toEqual([false, false]);
  });

  it('keeps its class and context over the wire', () => {
    const error = new BucketConfigMismatchError('vars', 'historyDepth', 64, 1);
    const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(error)) as ReturnType<typeof error.toJSON>);
    expect(rebuilt).toBeInstanceOf(BucketConfigMismatchError);
    expect(rebuilt).toMatchObject({ bucket: 'vars', setting: 'historyDepth', configured: 64, actual: 1 });
    expect(rebuilt.message).toBe(error.message);
  });
});
