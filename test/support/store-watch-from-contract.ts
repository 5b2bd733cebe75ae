/**
 * The Store contract for watches started at a revision (`fromRevision`): a resumed watch must see every kept
 * change from there on, once and in order, then live changes, whatever the store. And for the options that say where
 * a watch starts, which every store refuses alike.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Store, WatchOptions } from '../../src/store/store.js';
import { collect, settle, summary } from './store-changes.js';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describeWatchFromRevision(
  open: (options?: { readonly historyDepth?: number }) => Promise<Store<unknown>>,
): void {
  describe('watch fromRevision', () => {
    it('delivers the changes from the revision on, deletes included, in order and once, then live ones', async () => {
      const store = await open();
      const ra = await store.create('s.a', 1);
      await store.create('s.b', 1);
      const ra2 = await store.update('s.a', 2, ra);
      const db = await store.delete('s.b');
      await store.create('t.x', 1);
      const rc = await store.create('s.c', 1);
      const seen = collect();
      const watch = store.watch('s.', seen.listener, { fromRevision: ra2 });
      await watch.ready;
      // Ready means the replay is through: nothing of it arrives later.
      expect(summary(seen.changes)).toEqual(['s.a=2', '-s.b', 's.c=1']);
      expect(seen.changes.map((c) => c.revision)).toEqual([ra2, db, rc]);
      const ra3 = await store.update('s.a', 3, ra2);
      await store.create('t.y', 1);
      const dc = await store.delete('s.c');
      expect(summary(await seen.until(5))).toEqual(['s.a=2', '-s.b', 's.c=1', 's.a=3', '-s.c']);
      await settle();
      expect(seen.changes.map((c) => c.revision)).toEqual([ra2, db, rc, ra3, dc]);
    });

    it('keeps to its prefix, isolating a. from ab., and sees every key with the empty prefix', async () => {
      const store = await open();
      const first = await store.create('a.x', 1);
      await store.create('ab.x', 2);
      await store.create('a.deep.y', 3);
      const mine = collect();
      const all = collect();
      await store.watch('a.', mine.listener, { fromRevision: first }).ready;
      await store.watch('', all.listener, { fromRevision: first }).ready;
      await store.create('ab.y', 4);
      await store.create('a.z', 5);
      expect(summary(await mine.until(3))).toEqual(['a.x=1', 'a.deep.y=3', 'a.z=5']);
      expect(summary(await all.until(5))).toEqual(['a.x=1', 'ab.x=2', 'a.deep.y=3', 'ab.y=4', 'a.z=5']);
      await settle();
      expect(mine.changes).toHaveLength(3);
    });

    it('starts with the oldest change still kept when the revision is older than the history depth', async () => {
      const store = await open({ historyDepth: 2 });
      let revision = await store.create('s.a', 1);
      const first = revision;
      for (let value = 2; value <= 4; value += 1) revision = await store.update('s.a', value, revision);
      await store.create('s.b', 1);
      const seen = collect();
      await store.watch('s.', seen.listener, { fromRevision: first }).ready;
      // 's.a' keeps its last two writes: the first two are gone from the store, and from the watch.
      expect(summary(seen.changes)).toEqual(['s.a=3', 's.a=4', 's.b=1']);
      expect(seen.changes.map((c) => c.revision)).toEqual([revision - 1, revision, revision + 1]);
    });

    it('delivers nothing below a revision past the last one, and the changes from it on', async () => {
      const store = await open();
      const last = await store.create('s.a', 1);
      const seen = collect();
      await store.watch('s.', seen.listener, { fromRevision: last + 2 }).ready;
      expect(seen.changes).toEqual([]);
      expect(await store.create('s.b', 1)).toBe(last + 1);
      await store.create('s.c', 1);
      expect(summary(await seen.until(1))).toEqual(['s.c=1']);
      await settle();
      expect(seen.changes).toHaveLength(1);
    });

    it('refuses a revision that is not a positive integer, or given with includeCurrent, and watches nothing', async () => {
      const store = await open();
      await store.create('s.a', 1);
      const seen = collect();
      const refused: WatchOptions[] = [
        { fromRevision: 0 },
        { fromRevision: -1 },
        { fromRevision: 1.5 },
        { fromRevision: Number.NaN },
        { fromRevision: '1' as unknown as number },
        { fromRevision: 1, includeCurrent: true },
        { fromRevision: 1, includeCurrent: false },
      ];
      for (const options of refused) {
        expect(() => store.watch('s.', seen.listener, options), JSON.stringify(options)).toThrow(ValidationError);
        expect(() => store.watch('s.', seen.listener, options), JSON.stringify(options)).toThrow(/fromRevision/);
      }
      await store.create('s.b', 1);
      await settle();
      expect(seen.changes).toEqual([]);
    });

    // Found by an audit: a misspelled option was read as absent (the current values came first, not the changes from
    // the revision), and includeCurrent 'false' as true, though a bad option is refused at once.
    it('refuses an unknown option and an includeCurrent that is not true or false, and watches nothing', async () => {
      const store = await open();
      await store.create('s.a', 1);
      const seen = collect();
      const refused: [unknown, RegExp][] = [
        [{ fromRevison: 1 }, /^watch got unknown option fromRevison; accepted: includeCurrent, fromRevision$/],
        [{ includeCurrent: 'false' }, /^watch option 'includeCurrent' must be true or false, got a string$/],
        [{ includeCurrent: null }, /^watch option 'includeCurrent' must be true or false, got null$/],
        [null, /^watch options must be an object, got null$/],
      ];
      for (const [options, message] of refused) {
        const watching = (): unknown => store.watch('s.', seen.listener, options as WatchOptions);
        expect(watching, JSON.stringify(options)).toThrow(ValidationError);
        expect(watching, JSON.stringify(options)).toThrow(message);
      }
      await store.create('s.b', 1);
      await settle();
      expect(seen.changes).toEqual([]);
    });
  });
}
