import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/store/memory-store.js';
import type { StoreChange } from '../src/store/store.js';
import { describeStoreContract } from './support/store-contract.js';

describeStoreContract('memory store (contract)', (options) =>
  createMemoryStore<unknown>({ ...options, onListenerError: () => {} }),
);

describe('memory store', () => {
  it('keeps values as given, without cloning', async () => {
    const store = createMemoryStore<{ n: number }>();
    const value = { n: 1 };
    await store.create('s.a', value);
    expect((await store.get('s.a'))?.value).toBe(value);
  });

  it('delivers synchronously, before the write resolves', async () => {
    const store = createMemoryStore<number>();
    const seen: number[] = [];
    await store.watch('s.', (c) => seen.push(c.revision)).ready;
    const pending = store.create('s.a', 1);
    expect(seen).toEqual([1]);
    await pending;
  });

  it('delivers the current values after watch() returns, before any later write', async () => {
    const store = createMemoryStore<number>();
    await store.create('s.a', 1);
    const seen: string[] = [];
    const watch = store.watch('s.', (c) => seen.push(`${c.key}@${c.revision}`));
    expect(seen).toEqual([]);
    await store.create('s.b', 2);
    expect(seen).toEqual(['s.a@1', 's.b@2']);
    await watch.ready;
  });

  it('keeps revision order for every watcher when a listener writes', async () => {
    const store = createMemoryStore<number>();
    const first: number[] = [];
    const second: number[] = [];
    await store.watch('s.', (c) => {
      first.push(c.revision);
      if (c.key === 's.a') void store.create('s.b', 2);
    }).ready;
    await store.watch('s.', (c) => second.push(c.revision)).ready;
    await store.create('s.a', 1);
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('reports listener exceptions to onListenerError and carries on', async () => {
    const errors: [unknown, StoreChange<unknown>][] = [];
    const store = createMemoryStore<number>({ onListenerError: (error, change) => errors.push([error, change]) });
    const boom = new Error('boom');
    await store.watch('s.', () => {
      throw boom;
    }).ready;
    expect(await store.create('s.a', 1)).toBe(1);
    expect(errors).toEqual([[boom, { operation: 'put', key: 's.a', value: 1, revision: 1 }]]);
  });

  it('serves many sessions, each watching its own prefix, with one delivery per write', async () => {
    const store = createMemoryStore<number>();
    const counts = new Map<number, number>();
    const sessions = 20_000;
    for (let i = 0; i < sessions; i += 1) store.watch(`s${i}.`, () => counts.set(i, (counts.get(i) ?? 0) + 1));
    for (let i = 0; i < sessions; i += 1) await store.create(`s${i}.v`, i);
    expect(counts.size).toBe(sessions);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await store.list('s7.')).toEqual([{ key: 's7.v', value: 7, revision: 8 }]);
  });

  it("keeps only the marker of a commit's delete with dropHistory, and the whole history of a plain delete", async () => {
    const store = createMemoryStore<number>();
    const r1 = await store.create('s.a', 1);
    const r2 = await store.update('s.a', 2, r1);
    const [dropped] = await store.commit([
      { operation: 'delete', key: 's.a', expectedRevision: r2, dropHistory: true },
    ]);
    expect(await store.history('s.a')).toEqual([{ operation: 'delete', key: 's.a', revision: dropped }]);
    const r3 = await store.create('s.b', 1);
    const [kept] = await store.commit([{ operation: 'delete', key: 's.b', expectedRevision: r3 }]);
    expect((await store.history('s.b')).map((c) => c.revision)).toEqual([r3, kept]);
  });

  it('forgets a purged key, as one never written: no key listed, compare-and-set at 0, nothing to a resumed watch', async () => {
    const store = createMemoryStore<number>();
    const r1 = await store.create('s.a', 1);
    await store.delete('s.a', r1, { updatedBy: 'ops' });
    const purged = await store.purge('s.a');
    const kept = await store.create('s.b', 1);
    expect(await store.keys('s.')).toEqual([{ key: 's.b', revision: kept }]);
    expect(await store.history('s.a')).toEqual([]);
    expect(await store.lastChange!('s.a')).toBeUndefined();
    const seen: StoreChange<number>[] = [];
    await store.watch('s.', (change) => seen.push(change), { fromRevision: r1 }).ready;
    expect(seen).toEqual([{ operation: 'put', key: 's.b', value: 1, revision: kept }]);
    await expect(store.update('s.a', 2, purged)).rejects.toMatchObject({ actualRevision: 0 });
    expect(await store.update('s.a', 2, 0)).toBeGreaterThan(kept);
  });

  // Found by a review: depth 100 was taken (it fails once the session moves to a KV bucket), a misspelled option was
  // a default applied silently, and the refusal was a plain RangeError.
  it('refuses a history depth a KV bucket could not keep, an unknown option and a reporter that is no function', () => {
    for (const historyDepth of [0, 65, 1.5]) {
      expect(() => createMemoryStore({ historyDepth })).toThrow(
        expect.objectContaining({
          code: 'validation_failed',
          message: `createMemoryStore option historyDepth must be an integer from 1 to 64 (a KV bucket's limit), got ${historyDepth}`,
        }),
      );
    }
    expect(() => createMemoryStore({ histroyDepth: 3 } as never)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        details: expect.objectContaining({ unknown: ['histroyDepth'] }),
      }),
    );
    expect(createMemoryStore({ historyDepth: 64 })).toBeDefined();
    // Found by an audit: a reporter that is no function was taken, and failed, unseen, at the first listener error.
    expect(() => createMemoryStore({ onListenerError: 'log' as never })).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        message: "createMemoryStore option 'onListenerError' must be a function, got a string",
      }),
    );
  });

  it('keeps the last 64 writes of a key by default, as a new KV bucket does', async () => {
    const store = createMemoryStore<number>();
    let revision = await store.create('s.a', 0);
    for (let value = 1; value < 70; value += 1) revision = await store.update('s.a', value, revision);
    const history = await store.history('s.a');
    expect(history).toHaveLength(64);
    expect(history[0]).toMatchObject({ value: 6 });
  });
});
