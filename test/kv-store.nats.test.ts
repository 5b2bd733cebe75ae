import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError, StoreConflictError } from '../src/errors.js';
import { createKvStore } from '../src/nats/kv-store.js';
import type { StoreChange } from '../src/store/store.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';
import { settle } from './support/store-changes.js';
import { describeStoreContract } from './support/store-contract.js';
import { waitFor } from './support/wait-for.js';

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
      // Delivered by the server to b's watch in its own time: waited for, then a moment for any extra to show.
      await waitFor(() => seen.length >= 2, { message: "b's watch sees both writes" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.map((c) => c.operation === 'put' && c.value)).toEqual([1, 2]);
      await a.close();
      await b.close();
    } finally {
      await other.close();
    }
  });

  it('stops its watches when closed, and leaves the connection, which is the caller’s, open', async () => {
    const bucket = bucketName();
    const store = await createKvStore<number>(nc, { bucket });
    const writer = await createKvStore<number>(nc, { bucket });
    const seen: StoreChange<number>[] = [];
    await store.watch('s.', (c) => seen.push(c), { includeCurrent: false }).ready;
    await writer.create('s.a', 1);
    await waitFor(() => seen.length === 1, { message: 'the watch hears the first write' });
    await store.close();
    expect(nc.isClosed()).toBe(false);
    const heard: StoreChange<number>[] = [];
    await writer.watch('s.', (c) => heard.push(c), { includeCurrent: false }).ready;
    await writer.create('s.b', 2);
    await waitFor(() => heard.length === 1, { message: "the writer's watch hears the second write" });
    await settle();
    expect(seen.map((c) => c.key)).toEqual(['s.a']);
    await writer.close();
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

  it('leaves a landed write that a third writer replaced before its undo, and names its key as not undone', async () => {
    const bucket = bucketName();
    const racer = await createKvStore<number>(nc, { bucket });
    const store = await createKvStore<number>(nc, {
      bucket,
      // Between the commit's two writes: another writer replaces the landed 's.a' and moves 's.b', so the second
      // write loses its race and the undo of 's.a' would write over a value the commit never wrote.
      onCommitWrite: async (_key, index) => {
        if (index !== 1) return;
        const landed = await racer.get('s.a');
        await racer.update('s.a', 100, landed!.revision);
        await racer.update('s.b', 100, rb);
      },
    });
    const ra = await store.create('s.a', 1);
    const rb = await store.create('s.b', 1);
    const error = await store
      .commit([
        { operation: 'put', key: 's.a', value: 2, expectedRevision: ra },
        { operation: 'put', key: 's.b', value: 2, expectedRevision: rb },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect(error).toMatchObject({ details: { conflictKey: 's.b', unrestored: ['s.a'] } });
    expect((await store.get('s.a'))?.value).toBe(100);
    expect((await store.get('s.b'))?.value).toBe(100);
    await store.close();
    await racer.close();
  });

  it('reads a history after other keys were deleted and purged, and the stream purged below it', async () => {
    const bucket = bucketName();
    const store = await createKvStore<number>(nc, { bucket });
    const kv = await nc.jetstream().views.kv(bucket);
    const kept: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      await store.create(`s.k${i}`, i);
      if (i % 10 === 0) kept.push(await store.update('s.kept', i, kept.at(-1) ?? 0));
    }
    for (let i = 0; i < 40; i += 2) await store.delete(`s.k${i}`);
    for (let i = 1; i < 40; i += 4) await kv.purge(`s.k${i}`);
    // The stream's first sequence moves past the history's first message.
    const jsm = await nc.jetstream().jetstreamManager();
    await jsm.streams.purge(`KV_${bucket}`, { seq: kept[1]! });
    kept.push(await store.update('s.kept', 99, kept.at(-1)!));
    await store.delete('s.k23');
    const history = await store.history('s.kept');
    expect(history).toEqual([
      { operation: 'put', key: 's.kept', value: 10, revision: kept[1] },
      { operation: 'put', key: 's.kept', value: 20, revision: kept[2] },
      { operation: 'put', key: 's.kept', value: 30, revision: kept[3] },
      { operation: 'put', key: 's.kept', value: 99, revision: kept[4] },
    ]);
    const purged = await store.history('s.k5');
    expect(purged).toEqual([{ operation: 'delete', key: 's.k5', revision: expect.any(Number) }]);
    expect((await store.history('s.k23')).map((c) => c.operation)).toEqual(['put', 'delete']);
    // Its put went with the stream purge; its delete marker came after.
    expect((await store.history('s.k0')).map((c) => c.operation)).toEqual(['delete']);
    expect(await store.history('s.never')).toEqual([]);
    await store.close();
  });

  it('keeps a delete marker in the middle of a history, between writes to other keys', async () => {
    const store = await createKvStore<string>(nc, { bucket: bucketName() });
    const r1 = await store.create('s.a', 'one');
    await store.create('s.b', 'other');
    const r2 = await store.update('s.a', 'two', r1);
    const r3 = await store.delete('s.a', r2);
    await store.delete('s.b');
    const r4 = await store.create('s.a', 'three');
    await store.create('s.c', 'other');
    const r5 = await store.update('s.a', 'four', r4);
    expect(await store.history('s.a')).toEqual([
      { operation: 'put', key: 's.a', value: 'one', revision: r1 },
      { operation: 'put', key: 's.a', value: 'two', revision: r2 },
      { operation: 'delete', key: 's.a', revision: r3 },
      { operation: 'put', key: 's.a', value: 'three', revision: r4 },
      { operation: 'put', key: 's.a', value: 'four', revision: r5 },
    ]);
    await store.close();
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
    await waitFor(() => seen.length >= 300, { message: 'the live change after ready' });
    expect(seen).toHaveLength(300);
    expect(seen.at(-1)).toMatchObject({ key: 'big.k1', value: -1 });
    await store.close();
  });
});

describe('createKvStore options', () => {
  // Found by a review: a misspelled option was a default applied silently, and a bucket name the server refuses came
  // back as an internal error once connected (a far longer one dropped the connection).
  it('refuses an unknown option and a bucket name the server cannot take, before anything is opened', async () => {
    await expect(createKvStore(nc, { bucket: bucketName(), histroyDepth: 3 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
      details: { unknown: ['histroyDepth'] },
    });
    for (const bucket of ['a.b', 'bad name', '', 'é', 'v'.repeat(253)]) {
      await expect(createKvStore(nc, { bucket }), bucket).rejects.toMatchObject({
        code: 'validation_failed',
        message: `createKvStore option bucket must be a name of 1 to 252 letters, digits, '_' and '-', got ${JSON.stringify(bucket.slice(0, 60))}`,
      });
    }
  });
});

describe('kv store values', () => {
  // Found by a review: `undefined` was written as zero bytes that made the key (and its prefix's list) unreadable, a
  // value starting with `~tc` came back without that field and announced as a commit's write, and a BigInt or a
  // cycle threw a plain TypeError.
  it('refuses, writing nothing, a value it could not read back as it was put', async () => {
    const store = await createKvStore<unknown>(nc, { bucket: bucketName() });
    try {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const unstorable: [string, unknown, RegExp][] = [
        ['undefined', undefined, /JSON has no form for it/],
        ['a function', () => 1, /JSON has no form for it/],
        ['a BigInt', 10n, /BigInt/],
        ['a cycle', cycle, /circular/],
        ['a ~tc field first', { '~tc': 'w:x:2', a: 1 }, /its first field is '~tc'/],
      ];
      for (const [what, value, why] of unstorable) {
        const refused = { code: 'validation_failed', details: { key: 's.a' } };
        await expect(store.create('s.a', value), what).rejects.toMatchObject(refused);
        await expect(store.update('s.a', value, 0), what).rejects.toMatchObject(refused);
        await expect(
          store.commit([{ operation: 'put', key: 's.a', value, expectedRevision: 0 }]),
          what,
        ).rejects.toMatchObject({ ...refused, message: expect.stringMatching(why) });
      }
      expect(await store.get('s.a')).toBeUndefined();
      expect(await store.history('s.a')).toEqual([]);
      expect(await store.create('s.a', { a: 1, '~tc': 'later fields are fine' })).toBeGreaterThan(0);
      expect(await store.list('s.')).toMatchObject([{ key: 's.a', value: { a: 1, '~tc': 'later fields are fine' } }]);
    } finally {
      await store.close();
    }
  });

  // Found by a review: a put from outside that its codec could not read was skipped by watches (a watcher kept the
  // value before it), and create or a commit expecting the key absent failed on it, as did get and lastChange.
  it('takes a put it cannot read as no value at its revision, which a write expecting the key absent takes back', async () => {
    const bucket = bucketName();
    const told: string[] = [];
    const store = await createKvStore<unknown>(nc, {
      bucket,
      onListenerError: (error) => told.push((error as Error).message),
    });
    try {
      const seen: StoreChange<unknown>[] = [];
      await store.watch('s.', (change) => seen.push(change)).ready;
      await store.create('s.a', 1);
      await store.create('s.b', 1);
      const kv = await nc.jetstream().views.kv(bucket);
      const a = await kv.put('s.a', new TextEncoder().encode('not json'));
      const b = await kv.put('s.b', new TextEncoder().encode('{'));
      await waitFor(() => seen.length >= 4, { message: 'the watch sees both puts' });
      const gone = (key: string, revision: number) => ({ operation: 'delete', key, revision });
      expect(seen.slice(2)).toEqual([gone('s.a', a), gone('s.b', b)]);
      expect(told).toEqual([
        expect.stringMatching(/^store key 's\.a' holds a value that cannot be read/),
        expect.stringMatching(/^store key 's\.b' holds a value that cannot be read/),
      ]);
      expect(await store.get('s.a')).toBeUndefined();
      expect(await store.lastChange!('s.a')).toEqual(gone('s.a', a));
      expect(await store.list('s.')).toEqual([]);

      const created = await store.create('s.a', 2);
      const [committed] = await store.commit([{ operation: 'put', key: 's.b', value: 2, expectedRevision: 0 }]);
      expect(await store.list('s.')).toEqual([
        { key: 's.a', value: 2, revision: created },
        { key: 's.b', value: 2, revision: committed },
      ]);
    } finally {
      await store.close();
    }
  });
});
