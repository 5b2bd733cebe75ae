import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createMemoryStore, type VariableRecord } from '../../src/index.js';
import { laggingStore } from '../support/lagging-store.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A rollback and an import are writes, and a write is not refused on a view that lags the store (README,
 * "Read-your-writes"): two runtimes share one memory store, one of them hearing every change 500 ms late.
 */
describe('rollback and import through a runtime whose view lags the store', () => {
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  async function twoRuntimes() {
    const store = createMemoryStore<VariableRecord>();
    const a = await Runtime.start({ store });
    const b = await Runtime.start({ store: laggingStore(store, 500) });
    runtimes.push(a, b);
    const onA = await a.session('s');
    const onB = await b.session('s');
    return { store, onA, onB };
  }

  it('rolls back a variable defined through another runtime that the view has not heard of yet', async () => {
    const { store, onA, onB } = await twoRuntimes();
    await onA.defineVariable('y', 'integer', 1);
    await onA.setVariable('y', 2);
    // B has not routed the define yet.
    expect(await onB.hasVariable('y')).toBe(false);

    const rolledBack = await onB.rollbackVariable('y', 1);
    expect(rolledBack).toMatchObject({ value: 1, version: 3, reason: 'rollback to version 1' });
    expect((await store.get('s.y'))?.value).toMatchObject({ value: 1, version: 3 });
  });

  it('rolls back a variable another runtime defined again, while the view still holds the one it replaced', async () => {
    const { store, onA, onB } = await twoRuntimes();
    await onA.defineVariable('y', 'integer', 1);
    await waitFor(() => onB.hasVariable('y'));
    await onA.deleteVariable('y');
    await onA.defineVariable('y', 'integer', 10);
    await onA.setVariable('y', 11);
    expect((await onB.describeVariable('y')).value).toBe(1);

    // Version 1 of the variable the store holds is 10, not the 1 of the variable B still sees.
    expect(await onB.rollbackVariable('y', 1)).toMatchObject({ value: 10, version: 3 });
    expect((await store.get('s.y'))?.value).toMatchObject({ value: 10, version: 3 });
  });

  it('imports with replace over a variable another runtime has just unlocked', async () => {
    const { store, onA, onB } = await twoRuntimes();
    await onA.defineVariable('x', 'integer', 1);
    await onA.lockVariable('x', 'alice');
    await waitFor(async () => (await onB.describeVariable('x')).lockedBy === 'alice');

    await onA.unlockVariable('x', 'alice');
    // B's view still shows the lock; the store no longer holds it. A setVariable by bob goes through (confirmed
    // against the store); an import with replace by bob must too.
    expect((await onB.describeVariable('x')).lockedBy).toBe('alice');
    const imported = await onB.importVariables([{ name: 'x', type: 'integer', value: 5 }], {
      replace: true,
      updatedBy: 'bob',
    });
    expect(imported).toBe(1);
    expect((await store.get('s.x'))?.value).toMatchObject({ value: 5, version: 2, updatedBy: 'bob' });
  });

  it('imports a variable another runtime has just deleted', async () => {
    const { store, onA, onB } = await twoRuntimes();
    await onA.defineVariable('x', 'integer', 1);
    await waitFor(() => onB.hasVariable('x'));

    await onA.deleteVariable('x');
    expect(await onB.hasVariable('x')).toBe(true);
    // The store holds no `x`: the import defines it rather than answering already_exists.
    expect(await onB.importVariables([{ name: 'x', type: 'string', value: 'fresh' }])).toBe(1);
    expect((await store.get('s.x'))?.value).toMatchObject({ type: 'string', value: 'fresh', version: 1 });
  });
});
