/**
 * The behaviour every {@link Store} must share, run against each implementation so the session layer can
 * swap them. Watch assertions wait for deliveries instead of assuming synchronous delivery, since the KV
 * store delivers over the network.
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreClosedError, StoreConflictError, ValidationError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { describeSingleWriteCommits } from './store-commit-contract.js';
import { describeDeleteBy } from './store-delete-by-contract.js';
import { collect, settle, summary } from './store-changes.js';
import { describePurge } from './store-purge-contract.js';
import { describeWatchFromRevision } from './store-watch-from-contract.js';

/** What a contract test may ask of the store under test. */
export interface StoreContractOptions {
  /** Writes kept per key by `history`. */
  readonly historyDepth?: number;
}

/** Builds a fresh, empty store for one test. */
export type MakeStore = (options: StoreContractOptions) => Promise<Store<unknown>> | Store<unknown>;

/**
 * Registers the Store contract suite under `describe(name)`.
 * @example
 * describeStoreContract('memory store', (o) => createMemoryStore(o));
 */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(name, () => {
    const opened: Store<unknown>[] = [];
    const open = async (options: StoreContractOptions = {}): Promise<Store<unknown>> => {
      const store = await makeStore(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('creates an absent key and refuses to create it again', async () => {
      const store = await open();
      const revision = await store.create('s.a', 1);
      expect(revision).toBeGreaterThan(0);
      const error = await store.create('s.a', 2).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.a', expectedRevision: 0, actualRevision: revision });
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision });
    });

    it('updates at the expected revision and rejects a stale one without writing', async () => {
      const store = await open();
      const r1 = await store.create('s.a', { n: 1 });
      const r2 = await store.update('s.a', { n: 2 }, r1);
      expect(r2).toBeGreaterThan(r1);
      const error = await store.update('s.a', { n: 3 }, r1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.a', expectedRevision: r1, actualRevision: r2 });
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: { n: 2 }, revision: r2 });
      expect(await store.history('s.a')).toHaveLength(2);
    });

    it('treats update at revision 0 as create and rejects it for a live key', async () => {
      const store = await open();
      const r1 = await store.update('s.a', 'x', 0);
      await expect(store.update('s.a', 'y', 0)).rejects.toMatchObject({ actualRevision: r1 });
    });

    it('deletes, optionally at the expected revision, and lets the key be created again', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      await expect(store.delete('s.a', r1 + 100)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.get('s.a')).toMatchObject({ value: 1 });
      const d = await store.delete('s.a', r1);
      expect(d).toBeGreaterThan(r1);
      expect(await store.get('s.a')).toBeUndefined();
      const r2 = await store.create('s.a', 2);
      expect(r2).toBeGreaterThan(d);
      const d2 = await store.delete('s.a');
      expect(await store.get('s.a')).toBeUndefined();
      expect((await store.history('s.a')).map((c) => [c.operation, c.revision])).toEqual([
        ['put', r1],
        ['delete', d],
        ['put', r2],
        ['delete', d2],
      ]);
    });

    it('writes a delete marker even for an absent key, which get ignores and history keeps', async () => {
      const store = await open();
      // Before it: a compare-and-set on a key never written reports its revision as 0, whatever the operation.
      const writes = [
        () => store.update('s.never', 1, 7),
        () => store.delete('s.never', 7),
        () => store.purge('s.never', 7),
      ];
      for (const write of writes)
        await expect(write()).rejects.toMatchObject({ key: 's.never', expectedRevision: 7, actualRevision: 0 });
      const d = await store.delete('s.never');
      expect(await store.get('s.never')).toBeUndefined();
      expect(await store.history('s.never')).toEqual([{ operation: 'delete', key: 's.never', revision: d }]);
      await expect(store.update('s.never', 1, d + 1)).rejects.toMatchObject({ actualRevision: d });
    });

    it('recreates a deleted key by update at its delete marker revision, as KV does', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 1);
      const d = await store.delete('s.a');
      await expect(store.update('s.a', 2, r1)).rejects.toMatchObject({ expectedRevision: r1, actualRevision: d });
      const r2 = await store.update('s.a', 2, d);
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 2, revision: r2 });
    });

    it('numbers writes with strictly increasing revisions across keys', async () => {
      const store = await open();
      const revisions = [await store.create('s.a', 1)];
      revisions.push(await store.create('t.b', 1));
      revisions.push(await store.create('s.c', 1));
      revisions.push(await store.delete('t.b'));
      revisions.push(await store.update('s.a', 2, revisions[0]!));
      for (let i = 1; i < revisions.length; i += 1) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!);
    });

    it('commits several writes with consecutive revisions, seen in order by watchers', async () => {
      const store = await open();
      const ra = await store.create('s.a', 1);
      const rb = await store.create('s.b', 1);
      const seen = collect();
      const watch = store.watch('s.', seen.listener, { includeCurrent: false });
      await watch.ready;
      const revisions = await store.commit([
        { operation: 'put', key: 's.a', value: 2, expectedRevision: ra },
        { operation: 'delete', key: 's.b', expectedRevision: rb },
        { operation: 'put', key: 's.c', value: 3, expectedRevision: 0 },
      ]);
      expect(revisions).toHaveLength(3);
      expect(revisions[1]).toBe(revisions[0]! + 1);
      expect(revisions[2]).toBe(revisions[0]! + 2);
      expect(summary(await seen.until(3))).toEqual(['s.a=2', '-s.b', 's.c=3']);
      expect(seen.changes.map((c) => c.revision)).toEqual(revisions);
      expect((await store.list('s.')).map((e) => [e.key, e.value])).toEqual([
        ['s.a', 2],
        ['s.c', 3],
      ]);
      expect(await store.commit([])).toEqual([]);
    });

    it('applies nothing of a commit whose check fails', async () => {
      const store = await open();
      const ra = await store.create('s.a', 1);
      const rb = await store.create('s.b', 1);
      await store.update('s.b', 2, rb);
      const seen = collect();
      const watch = store.watch('s.', seen.listener, { includeCurrent: false });
      await watch.ready;
      const error = await store
        .commit([
          { operation: 'put', key: 's.a', value: 9, expectedRevision: ra },
          { operation: 'put', key: 's.new', value: 9, expectedRevision: 0 },
          { operation: 'put', key: 's.b', value: 9, expectedRevision: rb },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect(error).toMatchObject({ key: 's.b', expectedRevision: rb });
      await settle();
      expect(seen.changes).toEqual([]);
      expect(await store.get('s.a')).toEqual({ key: 's.a', value: 1, revision: ra });
      expect(await store.get('s.new')).toBeUndefined();
      expect(await store.history('s.a')).toHaveLength(1);
      expect(await store.history('s.new')).toEqual([]);
    });

    describeSingleWriteCommits(open);
    describeWatchFromRevision(open);
    describePurge(open);
    describeDeleteBy(open);

    it('refuses a commit that writes one key twice', async () => {
      const store = await open();
      await expect(
        store.commit([
          { operation: 'put', key: 's.a', value: 1, expectedRevision: 0 },
          { operation: 'put', key: 's.a', value: 2, expectedRevision: 0 },
        ]),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(await store.get('s.a')).toBeUndefined();
    });

    it('lists live entries under a prefix in key order, isolating a. from ab.', async () => {
      const store = await open();
      await store.create('a.y', 2);
      await store.create('ab.x', 3);
      await store.create('a.x', 1);
      await store.create('a.z', 0);
      await store.delete('a.z');
      await store.create('a.deep.k', 4);
      expect((await store.list('a.')).map((e) => e.key)).toEqual(['a.deep.k', 'a.x', 'a.y']);
      expect((await store.list('ab.')).map((e) => [e.key, e.value])).toEqual([['ab.x', 3]]);
      expect((await store.list('a.deep.')).map((e) => e.key)).toEqual(['a.deep.k']);
      expect((await store.list('')).map((e) => e.key)).toEqual(['a.deep.k', 'a.x', 'a.y', 'ab.x']);
      expect(await store.list('zz.')).toEqual([]);
    });

    it('keeps history oldest first, bounded by the history depth', async () => {
      const store = await open({ historyDepth: 3 });
      let revision = await store.create('s.a', 0);
      for (let i = 1; i <= 4; i += 1) revision = await store.update('s.a', i, revision);
      const history = await store.history('s.a');
      expect(summary(history)).toEqual(['s.a=2', 's.a=3', 's.a=4']);
      expect(history[2]!.revision).toBe(revision);
      expect(await store.history('s.missing')).toEqual([]);
    });

    it('watches current values first, in revision order, then live changes', async () => {
      const store = await open();
      await store.create('s.b', 1);
      await store.create('s.a', 1);
      await store.create('t.a', 1);
      // 's.a' last written after 's.b': revision order is not key order here.
      const ra = await store.update('s.a', 2, (await store.get('s.a'))!.revision);
      await store.create('s.gone', 1);
      await store.delete('s.gone');
      const seen = collect();
      const watch = store.watch('s.', seen.listener);
      await watch.ready;
      expect(summary(seen.changes)).toEqual(['s.b=1', 's.a=2']);
      await store.update('s.a', 3, ra);
      await store.create('t.b', 1);
      await store.delete('s.b');
      // A live delete is news even of a key the watch never saw live (deleted before it began, or never written).
      await store.delete('s.gone');
      await store.delete('s.never');
      expect(summary(await seen.until(6))).toEqual(['s.b=1', 's.a=2', 's.a=3', '-s.b', '-s.gone', '-s.never']);
      const revisions = seen.changes.slice(2).map((c) => c.revision);
      expect(revisions[1]).toBeGreaterThan(revisions[0]!);
    });

    it('watches only live changes when includeCurrent is false', async () => {
      const store = await open();
      await store.create('s.a', 1);
      const seen = collect();
      const watch = store.watch('s.', seen.listener, { includeCurrent: false });
      await watch.ready;
      await store.create('s.b', 1);
      expect(summary(await seen.until(1))).toEqual(['s.b=1']);
    });

    it('keeps watches on two prefixes apart', async () => {
      const store = await open();
      const one = collect();
      const two = collect();
      await Promise.all([store.watch('s1.', one.listener).ready, store.watch('s10.', two.listener).ready]);
      await store.create('s1.a', 1);
      await store.create('s10.a', 10);
      await store.create('s1.b', 2);
      expect(summary(await one.until(2))).toEqual(['s1.a=1', 's1.b=2']);
      expect(summary(await two.until(1))).toEqual(['s10.a=10']);
      await settle();
      expect(one.changes).toHaveLength(2);
      expect(two.changes).toHaveLength(1);
    });

    it('stops delivering after stop()', async () => {
      const store = await open();
      const seen = collect();
      const watch = store.watch('s.', seen.listener);
      await watch.ready;
      await store.create('s.a', 1);
      await seen.until(1);
      watch.stop();
      watch.stop();
      await store.create('s.b', 1);
      await settle();
      expect(summary(seen.changes)).toEqual(['s.a=1']);
    });

    it('lets exactly one of racing updates win', async () => {
      const store = await open();
      const r1 = await store.create('s.a', 0);
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.update('s.a', i + 1, r1)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreConflictError);
      expect((await store.history('s.a')).length).toBe(2);
    });

    it('lets exactly one of racing creates and racing deletes win', async () => {
      const store = await open();
      const creates = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.create('s.a', i)));
      expect(creates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const revision = (await store.get('s.a'))!.revision;
      const deletes = await Promise.allSettled(Array.from({ length: 5 }, () => store.delete('s.a', revision)));
      expect(deletes.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('lets exactly one of racing commits on overlapping keys win, whole', async () => {
      const store = await open();
      const ra = await store.create('s.a', 0);
      const rb = await store.create('s.b', 0);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          store.commit([
            { operation: 'put', key: 's.a', value: i + 1, expectedRevision: ra },
            { operation: 'put', key: 's.b', value: i + 1, expectedRevision: rb },
          ]),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const a = await store.get('s.a');
      const b = await store.get('s.b');
      expect(a?.value).toBe(b?.value);
      expect(a?.value).not.toBe(0);
    });

    it("reads a key's last write, delete marker included, as history would end", async () => {
      const store = await open();
      expect(store.lastChange).toBeTypeOf('function');
      const last = (key: string) => store.lastChange!(key);
      expect(await last('s.never')).toBeUndefined();
      const created = await store.create('s.a', { n: 1 });
      expect(await last('s.a')).toEqual({ operation: 'put', key: 's.a', value: { n: 1 }, revision: created });
      const deleted = await store.delete('s.a');
      expect(await last('s.a')).toEqual({ operation: 'delete', key: 's.a', revision: deleted });
      expect(await last('s.a')).toEqual((await store.history('s.a')).at(-1));
      await expect(last('bad key')).rejects.toBeInstanceOf(ValidationError);
      await store.close();
      await expect(last('s.a')).rejects.toBeInstanceOf(StoreClosedError);
    });

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

    it('keeps delivering when a listener throws', async () => {
      const store = await open();
      const seen = collect();
      await store.watch('s.', () => {
        throw new Error('listener bug');
      }).ready;
      await store.watch('s.', seen.listener).ready;
      await store.create('s.a', 1);
      await store.create('s.b', 1);
      expect(summary(await seen.until(2))).toEqual(['s.a=1', 's.b=1']);
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
