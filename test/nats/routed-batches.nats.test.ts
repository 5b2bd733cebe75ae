import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { VariableChange } from '../../src/index.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const WRITES = 40;

describe('routing a burst of changes (NATS node)', () => {
  it('hands the changes that arrive together to the session process in one event, every one applied in order', async () => {
    const buckets = fx().buckets();
    // Node B hears of variable writes through a proxy that can hold them, so they reach it all at once.
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.variablesBucket}.`),
    );
    try {
      const routed: number[] = [];
      const onInspect = (event: InspectionEvent): void => {
        if (event.type !== '@xstate.event' || event.event.type !== 'store.changed') return;
        routed.push((event.event as unknown as { changes: unknown[] }).changes.length);
      };
      const a = await fx().runtime(buckets);
      const b = await fx().runtime(buckets, { servers: proxy.url, inspect: onInspect });
      const writer = await a.session('burst');
      await writer.defineVariable('n', 'integer', 0);
      const reader = await b.session('burst');
      await waitFor(() => reader.hasVariable('n'), { message: "node B's session has n" });
      const seen: VariableChange[] = [];
      const unwatch = await reader.watchVariables('n', (change) => seen.push(change));

      proxy.hold();
      for (let i = 1; i <= WRITES; i++) await writer.setVariable('n', i);
      routed.length = 0;
      proxy.release();
      await waitFor(() => seen.length === WRITES, { message: `node B's watcher saw ${WRITES} changes` });
      unwatch();

      // Every change, in order, each with the value before it: nothing lost or reordered by the batching.
      expect(seen.map((change) => [change.oldValue, change.newValue])).toEqual(
        Array.from({ length: WRITES }, (_, i) => [i, i + 1]),
      );
      expect(await reader.getVariable('n')).toBe(WRITES);
      // Fewer events than changes: those that arrived together went in one.
      expect(routed.reduce((sum, size) => sum + size, 0)).toBe(WRITES);
      expect(routed.length).toBeLessThan(WRITES);
      expect(Math.max(...routed)).toBeGreaterThan(1);
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  });
});
