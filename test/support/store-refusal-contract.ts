/**
 * The Store contract for what every store refuses alike: invalid or overlong keys and prefixes, an expected revision
 * that is no whole number, and every operation once the store is closed.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { StoreClosedError, ValidationError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';

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

    it('rejects every operation once closed', async () => {
      const store = await open();
      await store.create('s.a', 1);
      await store.close();
      await expect(store.get('s.a')).rejects.toBeInstanceOf(StoreClosedError);
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
