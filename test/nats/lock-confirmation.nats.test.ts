import { describe, expect, it } from 'vitest';
import { slowRouterStore } from '../support/slow-router-store.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * A lock or unlock that a node's view shows done already is confirmed against the bucket before it is answered.
 * Found by a review with two nodes: a node that had not routed another node's lock yet answered an unlock by its
 * owner `lockedBy: null` and wrote nothing, and the bucket kept the lock.
 */
describe('a lock judged on a node whose router lags', () => {
  it('writes the unlock the lagging view shows done already', async () => {
    const buckets = fx().buckets();
    const a = await fx().assembledNode(buckets);
    const b = await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 500) });
    const onA = await a.runtime.session('s');
    await onA.defineVariable('x', 'integer', 1);
    const onB = await b.runtime.session('s');
    await waitFor(() => onB.hasVariable('x'));

    await onA.lockVariable('x', 'alice');
    expect((await onB.describeVariable('x')).lockedBy).toBeNull();
    expect(await onB.unlockVariable('x', 'alice')).toMatchObject({ lockedBy: null });
    expect(await a.store.lastChange!('s.x')).toMatchObject({ value: { lockedBy: null } });
    await waitFor(async () => (await onA.describeVariable('x')).lockedBy === null);
  });

  it('writes nothing for a lock its owner holds already', async () => {
    const buckets = fx().buckets();
    const a = await fx().assembledNode(buckets);
    const onA = await a.runtime.session('s');
    await onA.defineVariable('x', 'integer', 1);
    await onA.lockVariable('x', 'alice');
    const before = await a.store.history('s.x');

    expect(await onA.lockVariable('x', 'alice')).toMatchObject({ lockedBy: 'alice' });
    expect(await a.store.history('s.x')).toEqual(before);
  });
});
