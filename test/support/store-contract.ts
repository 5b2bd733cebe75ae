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
import { describeRefusals } from './store-refusal-contract.js';
import { describeWatchFromRevision } from './store-watch-from-contract.js';
import { describeWatches } from './store-watch-contract.js';

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
    describeWatches(open);
    describeRefusals(open);

    it('refuses a commit that writes one key twice', async () => {
      const store = await open();
      await expect(
        store.commit([
          { operation: 'put', key: 's.a', value: 1, expectedRevision: 0 },
          { operation: 'put', key: 's.a', value: 2, expectedRevision: 0 },
        ]),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        message: "commit writes store key 's.a' more than once",
        details: { key: 's.a' },
      });
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
  });
}
