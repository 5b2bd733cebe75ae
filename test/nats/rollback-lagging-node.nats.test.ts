import { describe, expect, it } from 'vitest';
import { slowRouterStore } from '../support/slow-router-store.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * A rollback is a write, and a write is not refused on a node's lagging view (README, "Read-your-writes"): node B's
 * router hears every change 800 ms late.
 */
describe('a rollback through a node whose router lags', () => {
  async function nodes() {
    const buckets = fx().buckets();
    const a = await fx().assembledNode(buckets);
    const b = await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 800) });
    const onA = await a.runtime.session('s');
    await onA.defineVariable('seed', 'integer', 0);
    const onB = await b.runtime.session('s');
    await waitFor(() => onB.hasVariable('seed'));
    return { a, onA, onB };
  }

  it('rolls back a variable another node has just defined and written', async () => {
    const { a, onA, onB } = await nodes();
    await onA.defineVariable('y', 'integer', 1);
    await onA.setVariable('y', 2);
    expect(await onB.hasVariable('y')).toBe(false);

    expect(await onB.rollbackVariable('y', 1)).toMatchObject({ value: 1, version: 3 });
    expect(await a.store.lastChange!('s.y')).toMatchObject({ value: { value: 1, version: 3 } });
  });
});
