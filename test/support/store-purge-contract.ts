/**
 * The Store contract for `keys` and `purge`: what a session's deletion relies on to leave nothing of its variables
 * behind, whatever the store.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { StoreConflictError, ValidationError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { collect, summary } from './store-changes.js';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describePurge(open: () => Promise<Store<unknown>>): void {
  describe('keys and purge', () => {
    it('lists every key under a prefix with its last revision, deleted ones included', async () => {
      const store = await open();
      // Written in the reverse of key order: the listing is in key order all the same.
      await store.create('s.b', 1);
      const b = await store.delete('s.b');
      const a = await store.create('s.a', 1);
      await store.create('st.c', 1);
      expect(await store.keys('s.')).toEqual([
        { key: 's.a', revision: a },
        { key: 's.b', revision: b },
      ]);
      expect(await store.keys('nothing.')).toEqual([]);
      await expect(store.keys('s')).rejects.toBeInstanceOf(ValidationError);
    });

    it('removes a key with its whole history, tells watchers, and lets the key be created afresh', async () => {
      const store = await open();
      const seen = collect();
      await store.watch('s.', seen.listener, { includeCurrent: false }).ready;
      const r1 = await store.create('s.a', 1);
      const r2 = await store.update('s.a', 2, r1);
      // Heard before the purge: on KV a purge removes the messages a watch has not been delivered yet (a watch
      // promises the latest value, not every one), and a loaded machine can deliver them after it.
      await seen.until(2);
      const purged = await store.purge('s.a', r2);
      expect(purged).toBeGreaterThan(r2);
      expect(await store.get('s.a')).toBeUndefined();
      expect(await store.list('s.')).toEqual([]);
      // No value of it is kept: at most the purge's own marker.
      const history = await store.history('s.a');
      expect(history.every((change) => change.operation === 'delete')).toBe(true);
      expect(history.length).toBeLessThanOrEqual(1);
      expect(summary(await seen.until(3))).toEqual(['s.a=1', 's.a=2', '-s.a']);
      // One delete at the purge's revision, naming nobody: a purge never has an updatedBy.
      expect(seen.changes[2]).toStrictEqual({ operation: 'delete', key: 's.a', revision: purged });
      const again = await store.create('s.a', 3);
      expect(await store.history('s.a')).toEqual(
        expect.arrayContaining([{ operation: 'put', key: 's.a', value: 3, revision: again }]),
      );
      expect((await store.history('s.a')).filter((change) => change.operation === 'put')).toHaveLength(1);
    });

    // Expected revision 0 is "absent or deleted" for every compare-and-set, deletes and purges too (an audit's check).
    it('deletes and purges at expected revision 0 a key never written or deleted, and refuses a live one', async () => {
      const store = await open();
      expect(await store.delete('s.never', 0)).toBeGreaterThan(0);
      expect(await store.purge('s.never2', 0)).toBeGreaterThan(0);
      const d = await store.delete('s.a', await store.create('s.a', 1));
      expect(await store.delete('s.a', 0)).toBeGreaterThan(d);
      expect(await store.purge('s.a', 0)).toBeGreaterThan(d);
      const live = await store.create('s.b', 1);
      const conflict = { code: 'store_conflict', details: { key: 's.b', expectedRevision: 0, actualRevision: live } };
      await expect(store.delete('s.b', 0)).rejects.toMatchObject(conflict);
      await expect(store.purge('s.b', 0)).rejects.toMatchObject(conflict);
      expect(await store.get('s.b')).toEqual({ key: 's.b', value: 1, revision: live });
    });

    it('purges only at the expected revision, and a deleted key with its history', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const r2 = await store.update('s.a', 2, r1);
      await expect(store.purge('s.a', r1)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.get('s.a')).toMatchObject({ value: 2 });
      const d = await store.delete('s.a');
      await store.purge('s.a', d);
      expect((await store.history('s.a')).filter((change) => change.operation === 'put')).toEqual([]);
      expect(r2).toBeGreaterThan(r1);
      await expect(store.purge('bad key')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
