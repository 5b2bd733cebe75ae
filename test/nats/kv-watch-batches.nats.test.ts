import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { createKvStore } from '../../src/nats/kv-store.js';
import { watchKv } from '../../src/nats/kv-watch.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
let counter = 0;
const bucketName = () => `batches_${process.pid}_${Date.now()}_${(counter += 1)}`;

describe('kv watch batches', () => {
  it('hands a batch whose handler threw over again on resume, none of its entries skipped', async () => {
    const bucket = bucketName();
    const writer = await nc().jetstream().views.kv(bucket);
    // The watch hears the bucket through a proxy that can hold its messages, so five writes reach it together.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith(`$KV.${bucket}.`));
    const watching = await connect({ servers: proxy.url });
    try {
      const kv = await watching.jetstream().views.kv(bucket);
      const delivered: string[] = [];
      const batchSizes: number[] = [];
      let threw = false;
      let ended = false;
      const handle = watchKv(
        kv,
        's.',
        { kind: 'live' },
        (entries) => {
          batchSizes.push(entries.length);
          if (!threw && entries.some((entry) => entry.key === 's.k2')) {
            threw = true;
            throw new Error('a handler failing once');
          }
          delivered.push(...entries.map((entry) => entry.key));
        },
        () => (ended = true),
      );
      await handle.initialized;

      proxy.hold();
      for (let i = 0; i < 5; i++) await writer.put(`s.k${i}`, new TextEncoder().encode(String(i)));
      proxy.release();
      await waitFor(() => ended, { message: 'the watch ended on the throw' });
      handle.resume();
      await waitFor(() => delivered.includes('s.k4'), { message: 'the resumed watch delivers s.k4' });
      handle.stop();

      expect(Math.max(...batchSizes)).toBeGreaterThan(1);
      // Each entry exactly once, in order: the failed batch came again whole, nothing after it was skipped.
      expect(delivered).toEqual(['s.k0', 's.k1', 's.k2', 's.k3', 's.k4']);
    } finally {
      proxy.release();
      await watching.close();
      await proxy.close();
    }
  });

  it('stops delivering the rest of a batch once a listener stops its watch', async () => {
    const store = await createKvStore<number>(nc(), { bucket: bucketName() });
    try {
      for (let i = 0; i < 20; i++) await store.create(`s.k${i}`, i);
      const seen: string[] = [];
      // The twenty current values arrive together, as one batch.
      const watch = store.watch(
        's.',
        (change) => {
          seen.push(change.key);
          watch.stop();
        },
        { includeCurrent: true },
      );
      await watch.ready;
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual(['s.k0']);
    } finally {
      await store.close();
    }
  });
});
