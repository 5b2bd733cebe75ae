import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../src/errors.js';
import { createKvStore } from '../src/nats/kv-store.js';
import type { StoreChange } from '../src/store/store.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';
import { describeStoreContract } from './support/store-contract.js';

let server: NatsTestServer;
let nc: NatsConnection;
let buckets = 0;
/** A fresh bucket per store, so tests never see each other's keys. */
const bucketName = (): string => `test_${process.pid}_${Date.now()}_${(buckets += 1)}`;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describeStoreContract('kv store (contract)', (options) =>
  createKvStore<unknown>(nc, { bucket: bucketName(), ...options, onListenerError: () => {} }),
);

describe('kv store', () => {
  it("shares one bucket between two stores, each seeing the other's writes and conflicts", async () => {
    const bucket = bucketName();
    const other = await connect({ servers: server.url });
    try {
      const a = await createKvStore<number>(nc, { bucket });
      const b = await createKvStore<number>(other, { bucket });
      const seen: StoreChange<number>[] = [];
      await b.watch('s.', (c) => seen.push(c)).ready;
      const r1 = await a.create('s.x', 1);
      await expect(b.update('s.x', 2, r1 - 1)).rejects.toMatchObject({ actualRevision: r1 });
      await b.update('s.x', 2, r1);
      expect((await a.get('s.x'))?.value).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.map((c) => c.operation === 'put' && c.value)).toEqual([1, 2]);
      await a.close();
      await b.close();
    } finally {
      await other.close();
    }
  });

  it('undoes the landed writes of a commit that loses a race after its check', async () => {
    const bucket = bucketName();
    const racer = await createKvStore<number>(nc, { bucket });
    const store = await createKvStore<number>(nc, {
      bucket,
      // The race: between the commit's check and its writes, another writer moves 's.b'.
      onCommitChecked: async () => {
        await racer.update('s.b', 100, rb);
      },
    });
    const ra = await store.create('s.a', 1);
    const rb = await store.create('s.b', 1);
    const error = await store
      .commit([
        { operation: 'put', key: 's.a', value: 2, expectedRevision: ra },
        { operation: 'put', key: 's.b', value: 2, expectedRevision: rb },
        { operation: 'put', key: 's.c', value: 2, expectedRevision: 0 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConflictError);
    expect(error).toMatchObject({ key: 's.b', expectedRevision: rb });
    expect((await store.get('s.a'))?.value).toBe(1);
    expect((await store.get('s.b'))?.value).toBe(100);
    expect(await store.get('s.c')).toBeUndefined();
    const undo = await store.history('s.a');
    expect(undo.map((c) => c.operation === 'put' && c.value)).toEqual([1, 2, 1]);
    await store.close();
    await racer.close();
  });

  it('delivers every current value of a large prefix before ready, then live changes', async () => {
    const store = await createKvStore<number>(nc, { bucket: bucketName() });
    const writes = Array.from({ length: 300 }, (_, i) => store.create(`big.k${i}`, i));
    await Promise.all(writes);
    await store.delete('big.k7');
    const seen: StoreChange<number>[] = [];
    const watch = store.watch('big.', (c) => seen.push(c));
    await watch.ready;
    expect(seen).toHaveLength(299);
    expect(seen.every((c, i) => i === 0 || c.revision > seen[i - 1]!.revision)).toBe(true);
    expect(await store.list('big.')).toHaveLength(299);
    await store.update('big.k1', -1, (await store.get('big.k1'))!.revision);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.at(-1)).toMatchObject({ key: 'big.k1', value: -1 });
    await store.close();
  });
});
