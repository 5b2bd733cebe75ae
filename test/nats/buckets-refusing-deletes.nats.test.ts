/**
 * Buckets made beforehand by the `nats` CLI. nats.go, which `nats kv add` uses, makes every KV stream with
 * `deny_delete`, which JetStream never lets a stream drop. A node took such buckets as they were, and its removals of
 * a deleted variable's history (and of a stopped module's marker, a deleted session's leftovers), message deletes the
 * stream refused, were counted as done: the history stayed for good, and nothing was told. Now a node refuses such a
 * bucket at start with `bucket_config_mismatch` (`denyDelete`), as it refuses one that drops values, and the README
 * says how to make one that fits.
 */
import type { KvEntry, NatsConnection, StreamConfig } from 'nats';
import { describe, expect, it } from 'vitest';
import { BucketConfigMismatchError } from '../../src/index.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** The stream `nats kv add <bucket> --history <history>` makes (nats.go's CreateKeyValue on a 2.9 server). */
async function natsCliBucket(connection: NatsConnection, bucket: string, history: number): Promise<void> {
  const jsm = await connection.jetstreamManager();
  await jsm.streams.add({
    name: `KV_${bucket}`,
    subjects: [`$KV.${bucket}.>`],
    max_msgs_per_subject: history,
    max_msgs: -1,
    max_bytes: -1,
    max_msg_size: -1,
    max_age: 0,
    max_consumers: -1,
    num_replicas: 1,
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
    duplicate_window: 120e9,
    discard: 'new',
    storage: 'file',
  } as never);
}

async function streamConfig(bucket: string): Promise<StreamConfig | undefined> {
  const jsm = await nc().jetstreamManager();
  return jsm.streams.info(`KV_${bucket}`).then(
    (info) => info.config,
    () => undefined,
  );
}

/** Every message the variables bucket's stream still holds for `key`, oldest first. */
async function messagesOf(bucket: string, key: string): Promise<{ operation: string; value: string }[]> {
  const kv = await nc().jetstream().views.kv(bucket, { bindOnly: true });
  const out: { operation: string; value: string }[] = [];
  for await (const entry of (await kv.history({ key })) as AsyncIterable<KvEntry>) {
    out.push({ operation: entry.operation, value: entry.string() });
  }
  return out;
}

/** A node's start on the buckets: the error it failed with, or `undefined` once it started. */
const startFailure = (buckets: TestBuckets): Promise<unknown> =>
  fx()
    .node(buckets, { onError: () => {} })
    .then(
      () => undefined,
      (error: unknown) => error,
    );

describe('buckets made by `nats kv add` (deny_delete, as nats.go makes every KV stream)', () => {
  it.each(['variablesBucket', 'sessionsBucket', 'modulesBucket'] as const)(
    'refuses the %s at start, naming it and the setting, and creates and changes nothing',
    async (role) => {
      const buckets = fx().buckets();
      const bucket = buckets[role];
      await natsCliBucket(nc(), bucket, role === 'variablesBucket' ? 64 : 1);

      const error = await startFailure(buckets);
      expect(error).toBeInstanceOf(BucketConfigMismatchError);
      expect(error).toMatchObject({
        code: 'bucket_config_mismatch',
        bucket,
        setting: 'denyDelete',
        configured: 0,
        actual: 1,
      });
      expect((error as Error).message).toContain(`KV bucket '${bucket}' exists with denyDelete 1`);
      expect((error as Error).message).toContain('`nats kv add`');
      expect((await streamConfig(bucket))?.deny_delete).toBe(true);
      const others = Object.values(buckets).filter((name) => name !== bucket);
      expect(await Promise.all(others.map(streamConfig))).toEqual([undefined, undefined]);
    },
  );

  it('refuses a bucket whose stream refuses roll-ups, which a purge of a key is', async () => {
    const buckets = fx().buckets();
    await nc().jetstream().views.kv(buckets.variablesBucket, { history: 64 });
    const jsm = await nc().jetstreamManager();
    const config = (await streamConfig(buckets.variablesBucket))!;
    await jsm.streams.update(`KV_${buckets.variablesBucket}`, { ...config, allow_rollup_hdrs: false });

    const error = await startFailure(buckets);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({ setting: 'allowRollup', configured: 1, actual: 0 });
    expect((error as Error).message).toContain(`KV bucket '${buckets.variablesBucket}' exists with allowRollup 0`);
  });

  it("takes a bucket made as the README says, with a max value size, and removes a deleted variable's history", async () => {
    // A node creates the buckets; the max value size is then set on the stream (`nats stream edit --max-msg-size`).
    const buckets = fx().buckets();
    const first = await fx().node(buckets);
    await first.stop();
    const jsm = await nc().jetstreamManager();
    const config = (await streamConfig(buckets.variablesBucket))!;
    await jsm.streams.update(`KV_${buckets.variablesBucket}`, { ...config, max_msg_size: 64 * 1024 });

    const reports: unknown[] = [];
    const node = await fx().node(buckets, { onError: (error) => void reports.push(error) });
    const session = await node.runtime.session('s1');
    await session.defineVariable('secret', 'string', 'password-1');
    await session.setVariable('secret', 'password-2');
    await session.deleteVariable('secret');
    expect((await messagesOf(buckets.variablesBucket, 's1.secret')).length).toBe(3);

    // Removed 10 s after the delete (README): only the delete marker is left.
    await waitFor(async () => (await messagesOf(buckets.variablesBucket, 's1.secret')).length === 1, {
      timeout: 25_000,
      interval: 200,
      message: "the deleted variable's history left the bucket",
    });
    expect(await messagesOf(buckets.variablesBucket, 's1.secret')).toEqual([{ operation: 'DEL', value: '' }]);
    expect(reports).toEqual([]);
  }, 30_000);
});
