/**
 * The server, connection and bucket helpers of the bucket settings tests (bucket-settings-*.nats.test.ts): fresh
 * bucket names per test, the stream configuration the server holds for a bucket, and buckets made beforehand as an
 * operator or an older node would have.
 */
import type { StreamConfig } from 'nats';
import { useNatsFixture, usePlainConnection } from './nats-fixture.js';

let counter = 0;

/** The file's fixture on a server with HTTP monitoring, a plain connection to it, and the bucket helpers. */
export function useBucketSettingsFixture() {
  const fx = useNatsFixture({ monitor: true });
  const nc = usePlainConnection(fx);

  /** A number no earlier call in this file returned, for names of the test's own. */
  function nextCount(): number {
    counter += 1;
    return counter;
  }

  /** A fresh bucket name (and a node's three) per test. */
  function names() {
    const id = `${process.pid}_${Date.now()}_${nextCount()}`;
    return {
      bucket: `settings_${id}`,
      sessionsBucket: `settings_sessions_${id}`,
      modulesBucket: `settings_mods_${id}`,
    };
  }

  /** The bucket's stream configuration as the server holds it. */
  async function streamConfig(bucket: string): Promise<StreamConfig> {
    return (await (await nc().jetstreamManager()).streams.info(`KV_${bucket}`)).config;
  }

  async function bucketExists(bucket: string): Promise<boolean> {
    return streamConfig(bucket).then(
      () => true,
      () => false,
    );
  }

  /** A bucket made beforehand, as an operator or an older node would have, holding one key. */
  async function existingBucket(bucket: string, settings: { history: number }): Promise<void> {
    const kv = await nc().jetstream().views.kv(bucket, settings);
    await kv.put('kept', new TextEncoder().encode('"as it was"'));
  }

  return { server: () => fx().server, nc, nextCount, names, streamConfig, bucketExists, existingBucket };
}
