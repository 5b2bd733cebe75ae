/**
 * The Store contract for who deleted (`updatedBy` on a delete): a delete marker names its deleter, exactly as given,
 * wherever the store reports it (live watches, watches from a revision, history, `lastChange`), whether written by
 * `delete` or by a `commit`; a delete that names nobody reports no `updatedBy`.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { collect } from './store-changes.js';

/**
 * A deleter's name no NATS header could carry as it is: CR and LF, blanks at both ends, non-ASCII (two-unit
 * characters and a lone surrogate too), a NUL, and the characters JSON escapes.
 */
export const AWKWARD_UPDATED_BY = ' ops\r\nZoë "the team" \\ 🚀\u0000\ud800 ';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describeDeleteBy(open: () => Promise<Store<unknown>>): void {
  describe('who deleted', () => {
    it('reports the updatedBy of a delete exactly, to watchers, in history and by lastChange', async () => {
      const store = await open();
      const live = collect();
      await store.watch('s.', live.listener, { includeCurrent: false }).ready;
      const r1 = await store.create('s.a', 1);
      const d1 = await store.delete('s.a', r1, { updatedBy: AWKWARD_UPDATED_BY });
      const r2 = await store.create('s.a', 2);
      const d2 = await store.delete('s.a', r2);
      // At revision 0 (expecting the key absent) and without one, the marker still names its deleter.
      const d3 = await store.delete('s.a', 0, { updatedBy: 'second' });
      const d4 = await store.delete('s.b', undefined, { updatedBy: 'third' });

      const marker = (key: string, revision: number, updatedBy?: string) =>
        updatedBy === undefined
          ? { operation: 'delete', key, revision }
          : { operation: 'delete', key, revision, updatedBy };
      const deletes = [
        marker('s.a', d1, AWKWARD_UPDATED_BY),
        marker('s.a', d2),
        marker('s.a', d3, 'second'),
        marker('s.b', d4, 'third'),
      ];
      const only = (changes: readonly unknown[]) =>
        changes.filter((c) => (c as { operation: string }).operation === 'delete');
      expect(only(await live.until(6))).toStrictEqual(deletes);
      expect(only(await store.history('s.a'))).toStrictEqual(deletes.slice(0, 3));
      expect(await store.lastChange!('s.a')).toStrictEqual(deletes[2]);
      const replay = collect();
      await store.watch('s.', replay.listener, { fromRevision: r1 }).ready;
      expect(only(await replay.until(6))).toStrictEqual(deletes);
    });

    it("carries a commit's delete updatedBy, one write or several", async () => {
      const store = await open();
      const seen = collect();
      await store.watch('s.', seen.listener, { includeCurrent: false }).ready;
      const ra = await store.create('s.a', 1);
      const rb = await store.create('s.b', 1);
      const [da] = await store.commit([{ operation: 'delete', key: 's.a', expectedRevision: ra, updatedBy: 'alone' }]);
      const [, db] = await store.commit([
        { operation: 'put', key: 's.c', value: 1, expectedRevision: 0 },
        { operation: 'delete', key: 's.b', expectedRevision: rb, updatedBy: AWKWARD_UPDATED_BY },
      ]);
      await seen.until(5);
      // A store whose commit is several messages marks which commit each is part of (`commit`); not asked here.
      const deletes = seen.changes
        .filter((c) => c.operation === 'delete')
        .map(({ commit: _commit, ...change }) => change);
      expect(deletes).toStrictEqual([
        { operation: 'delete', key: 's.a', revision: da, updatedBy: 'alone' },
        { operation: 'delete', key: 's.b', revision: db, updatedBy: AWKWARD_UPDATED_BY },
      ]);
      expect(await store.lastChange!('s.b')).toStrictEqual(deletes.at(-1));
    });

    it('refuses an updatedBy that is not a string, and an unknown option, writing nothing', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const by = { updatedBy: 42 } as unknown as { updatedBy: string };
      const refused = {
        code: 'validation_failed',
        message: "the updatedBy of a delete of store key 's.a' must be a string, got number",
        details: { key: 's.a', got: 'number' },
      };
      await expect(store.delete('s.a', r1, by)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.delete('s.a', r1, by)).rejects.toMatchObject(refused);
      await expect(
        store.commit([{ operation: 'delete', key: 's.a', expectedRevision: r1, ...by }]),
      ).rejects.toMatchObject(refused);
      // Found by an audit: a misspelled option was read as absent, and the marker named nobody.
      await expect(store.delete('s.a', r1, { updatedby: 'ops' } as never)).rejects.toMatchObject({
        code: 'validation_failed',
        message: 'delete got unknown option updatedby; accepted: updatedBy',
      });
      await expect(store.delete('s.a', r1, null as never)).rejects.toBeInstanceOf(ValidationError);
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision: r1 });
      expect(await store.history('s.a')).toHaveLength(1);
    });
  });
}
