/**
 * The Store contract for commits of a single write (the KV store sends those as one compare-and-set publish,
 * without reading the key first, unless the write expects the key absent) and for small commits that must stay
 * all or nothing.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describeSingleWriteCommits(open: () => Promise<Store<unknown>>): void {
  describe('single-write commits', () => {
    it('commits a single put at a delete marker revision, recreating the key', async () => {
      const store = await open();
      await store.create('s.a', 1);
      const d = await store.delete('s.a');
      const [r] = await store.commit([{ operation: 'put', key: 's.a', value: 2, expectedRevision: d }]);
      expect(r).toBeGreaterThan(d);
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 2, revision: r });
    });

    it('commits a single delete at a delete marker revision as a new marker', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const d = await store.delete('s.a');
      const [d2] = await store.commit([{ operation: 'delete', key: 's.a', expectedRevision: d }]);
      expect(d2).toBeGreaterThan(d);
      expect(await store.get('s.a')).toBeUndefined();
      expect((await store.history('s.a')).map((c) => [c.operation, c.revision])).toEqual([
        ['put', r1],
        ['delete', d],
        ['delete', d2],
      ]);
    });

    it('refuses a single write at a stale revision, reporting the actual one, and writes nothing', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const r2 = await store.update('s.a', 2, r1);
      for (const write of [
        { operation: 'put', key: 's.a', value: 3, expectedRevision: r1 },
        { operation: 'delete', key: 's.a', expectedRevision: r1 },
      ] as const) {
        const error = await store.commit([write]).catch((e: unknown) => e);
        expect(error, write.operation).toBeInstanceOf(StoreConflictError);
        expect(error, write.operation).toMatchObject({ key: 's.a', expectedRevision: r1, actualRevision: r2 });
      }
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 2, revision: r2 });
      expect(await store.history('s.a')).toHaveLength(2);
    });

    // Found by a review: no test committed a write expecting absence (revision 0) on a key that holds a value.
    it('refuses a single put expecting the key absent when it holds a value, and writes nothing', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const error = await store
        .commit([{ operation: 'put', key: 's.a', value: 2, expectedRevision: 0 }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.a', expectedRevision: 0, actualRevision: r1 });
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision: r1 });
      expect(await store.history('s.a')).toHaveLength(1);
    });

    it('refuses a single write at a revision of a never-written key, reporting revision 0', async () => {
      const store = await open();
      const other = await store.create('s.other', 1);
      for (const write of [
        { operation: 'put', key: 's.never', value: 1, expectedRevision: other },
        { operation: 'delete', key: 's.never', expectedRevision: other },
      ] as const) {
        const error = await store.commit([write]).catch((e: unknown) => e);
        expect(error, write.operation).toBeInstanceOf(StoreConflictError);
        expect(error, write.operation).toMatchObject({ key: 's.never', expectedRevision: other, actualRevision: 0 });
      }
      expect(await store.history('s.never')).toEqual([]);
    });

    it('refuses a two-write commit with one stale write, writing neither', async () => {
      const store = await open();
      const ra = await store.create('s.a', 1);
      const rb = await store.create('s.b', 1);
      const rb2 = await store.update('s.b', 2, rb);
      const error = await store
        .commit([
          { operation: 'put', key: 's.a', value: 9, expectedRevision: ra },
          { operation: 'put', key: 's.b', value: 9, expectedRevision: rb },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.b', expectedRevision: rb, actualRevision: rb2 });
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision: ra });
      expect(await store.get('s.b')).toEqual({ key: 's.b', value: 2, revision: rb2 });
      expect(await store.history('s.a')).toHaveLength(1);
      expect(await store.history('s.b')).toHaveLength(2);
    });

    // Found by a review: no test committed several writes of which one expects absence on a key holding a value.
    it('refuses a two-write commit whose second write expects a live key absent, writing neither', async () => {
      const store = await open();
      const ra = await store.create('s.a', 1);
      const rb = await store.create('s.b', 1);
      const error = await store
        .commit([
          { operation: 'put', key: 's.a', value: 9, expectedRevision: ra },
          { operation: 'put', key: 's.b', value: 9, expectedRevision: 0 },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.b', expectedRevision: 0, actualRevision: rb });
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision: ra });
      expect(await store.get('s.b')).toEqual({ key: 's.b', value: 1, revision: rb });
      expect(await store.history('s.a')).toHaveLength(1);
      expect(await store.history('s.b')).toHaveLength(1);
    });
  });
}
