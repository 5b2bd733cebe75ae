/**
 * The Store contract for what every store refuses alike: invalid or overlong keys and prefixes, an expected revision
 * that is no whole number, a commit that is no array of put or delete writes, a watch without a listener function,
 * and every operation once the store is closed.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { StoreClosedError, ValidationError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from './wait-for.js';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describeRefusals(
  open: (options?: { readonly historyDepth?: number }) => Promise<Store<unknown>>,
): void {
  describe('refusals', () => {
    it('rejects invalid keys and prefixes', async () => {
      const store = await open();
      await expect(store.create('bad key', 1)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.get('a..b')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.list('a')).rejects.toBeInstanceOf(ValidationError);
      expect(() => store.watch('a.*.', () => {})).toThrow(ValidationError);
      // Each refusal names the key or prefix it refused, so a caller can tell which of its keys was wrong.
      const badKey = {
        code: 'validation_failed',
        message: "invalid store key 'bad key': expected [A-Za-z0-9_=/-] tokens joined by dots",
        details: { key: 'bad key' },
      };
      await expect(store.create('bad key', 1)).rejects.toMatchObject(badKey);
      await expect(store.get('a..b')).rejects.toMatchObject({ details: { key: 'a..b' } });
      const badPrefix = {
        code: 'validation_failed',
        message: "invalid store prefix 'a': expected '' or key tokens ending in '.'",
        details: { prefix: 'a' },
      };
      await expect(store.list('a')).rejects.toMatchObject(badPrefix);
      expect(() => store.watch('a.*.', () => {})).toThrow(expect.objectContaining({ details: { prefix: 'a.*.' } }));
      expect(await store.keys('')).toEqual([]);
    });

    // Found by a review: a key of 4 KB made the server drop the KV store's connection, everything else on it too.
    it('rejects a key or prefix over 1024 characters before anything is sent, naming its length', async () => {
      const store = await open();
      const long = 'k'.repeat(1025);
      await expect(store.create(long, 1)).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^store key 'k{40}…' is too long: 1025 characters, at most 1024$/),
      });
      await expect(store.list(`${long}.`)).rejects.toBeInstanceOf(ValidationError);
      expect(await store.create('k'.repeat(1024), 1)).toBeGreaterThan(0);
      expect(await store.create('ok', 2)).toBeGreaterThan(0);
    });

    // Found by a review: the KV store wrote unconditionally for a missing or non-numeric expected revision, which
    // the memory store refused as a conflict; a negative or fractional one was a conflict on both.
    it('rejects an expected revision that is no whole number ≥ 0, writing nothing, on every compare-and-set', async () => {
      const store = await open();
      const revision = await store.create('a', 1);
      for (const bad of [undefined, '1', -1, 1.5, Number.NaN, null]) {
        const refused = { code: 'validation_failed', details: { key: 'a', field: 'expectedRevision' } };
        await expect(store.update('a', 2, bad as never), String(bad)).rejects.toMatchObject(refused);
        await expect(
          store.commit([{ operation: 'put', key: 'a', value: 2, expectedRevision: bad as never }]),
        ).rejects.toMatchObject(refused);
        if (bad === undefined) continue;
        await expect(store.delete('a', bad as never)).rejects.toMatchObject(refused);
        await expect(store.purge('a', bad as never)).rejects.toMatchObject(refused);
      }
      expect(await store.get('a')).toMatchObject({ value: 1, revision });
    });

    // Found by an audit: a write whose operation was neither 'put' nor 'delete' was written as a delete marker, a
    // commit of a string failed naming a key 'undefined', and a null write threw a bare TypeError.
    it('rejects a commit that is no array of put or delete writes, naming the write, writing nothing', async () => {
      const store = await open();
      const revision = await store.create('s.a', 1);
      const put = { operation: 'put', key: 's.b', value: 2, expectedRevision: 0 } as const;
      const refusals: [unknown, object][] = [
        ['s.a', { message: 'a commit takes an array of writes, got string', details: { field: 'writes' } }],
        [[put, null], { message: 'commit write 1 must be an object, got null', details: { index: 1 } }],
        [
          [put, { operation: 'pit', key: 's.a', value: 3, expectedRevision: revision }],
          { message: "commit write 1 has operation 'pit'; a write is 'put' or 'delete'", details: { index: 1 } },
        ],
        [[{ key: 's.a', expectedRevision: revision }], { details: { field: 'operation', index: 0, got: 'undefined' } }],
      ];
      for (const [writes, refused] of refusals) {
        await expect(store.commit(writes as never), JSON.stringify(writes)).rejects.toMatchObject({
          code: 'validation_failed',
          ...refused,
        });
      }
      expect(await store.history('s.a')).toEqual([{ operation: 'put', key: 's.a', value: 1, revision }]);
      expect(await store.keys('s.')).toEqual([{ key: 's.a', revision }]);
    });

    // Found by an audit: a watch without a listener function was opened, and each change then reported a TypeError.
    it('refuses a watch whose listener is no function, opening nothing', async () => {
      const store = await open();
      const refused = { code: 'validation_failed', details: { field: 'listener', got: 'undefined' } };
      expect(() => store.watch('s.', undefined as never)).toThrow(expect.objectContaining(refused));
      if (store.watchBatches) expect(() => store.watchBatches!('s.', 'x' as never)).toThrow(ValidationError);
      const seen: unknown[] = [];
      await store.watch('s.', (change) => seen.push(change.key)).ready;
      await store.create('s.a', 1);
      await waitFor(() => seen.length > 0, { message: 'the change' });
      expect(seen).toEqual(['s.a']);
    });

    it('rejects every operation once closed', async () => {
      const store = await open();
      await store.create('s.a', 1);
      await store.close();
      await expect(store.get('s.a')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.get('s.a')).rejects.toMatchObject({
        code: 'store_closed',
        message: 'store is closed (get refused)',
        details: { operation: 'get' },
      });
      await expect(store.commit([])).rejects.toMatchObject({ details: { operation: 'commit' } });
      await expect(store.create('s.b', 1)).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.update('s.a', 2, 1)).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.delete('s.a')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.purge('s.a')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.commit([])).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.list('s.')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.keys('s.')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.history('s.a')).rejects.toBeInstanceOf(StoreClosedError);
      expect(() => store.watch('s.', () => {})).toThrow(StoreClosedError);
      if (store.watchBatches) expect(() => store.watchBatches!('s.', () => {})).toThrow(StoreClosedError);
      await store.close();
    });
  });
}
