/**
 * The Store contract for watches: current values first then live changes, watches on two prefixes kept apart, a
 * stopped watch (or a closed store) that delivers nothing more, and a listener that throws costing the others nothing.
 * Deliveries are waited for, not assumed synchronous: the KV store delivers over the network.
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { collect, settle, summary } from './store-changes.js';

/** Registers the cases inside the caller's `describe`; `open` gives a fresh, empty store that the caller closes. */
export function describeWatches(open: (options?: { readonly historyDepth?: number }) => Promise<Store<unknown>>): void {
  describe('watch', () => {
    it('watches current values first, in revision order, then live changes', async () => {
      const store = await open();
      await store.create('s.a', 1);
      await store.create('s.b', 1);
      await store.create('t.a', 1);
      // 's.a' last written after 's.b': revision order is neither key order nor the order keys were first written.
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

    // Found by an audit: a listener that closed the KV store heard the rest of what its watch had received with it
    // (here the other current values), after the close; the memory store stopped there, as stop() does on both.
    it('delivers nothing more once a listener closed the store, not even the rest of what came with its change', async () => {
      const store = await open();
      for (const key of ['s.a', 's.b', 's.c', 's.d']) await store.create(key, 1);
      const seen = collect();
      let closing: Promise<void> | undefined;
      const watch = store.watch('s.', (change) => {
        seen.listener(change);
        if (seen.changes.length === 2) closing = store.close();
      });
      await watch.ready;
      await settle();
      await closing;
      expect(summary(seen.changes)).toEqual(['s.a=1', 's.b=1']);
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
  });
}
