/**
 * An embedded watcher on a node whose bucket watch lags: a variable deleted and defined again meanwhile is another
 * variable (another `id`, versions from 1). When the node folds it in, its watchers hear the missed delete first,
 * as the remote watch tells one, and never one variable's value as the other's old value.
 */
import { describe, expect, it } from 'vitest';
import type { VariableChange } from '../../src/index.js';
import { slowRouterStore } from '../support/slow-router-store.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

describe('a watcher on a node whose bucket watch lags past the conflict wait', () => {
  it('hears a variable deleted and defined again meanwhile as a gap-marked delete, then the new variable', async () => {
    const buckets = fx().buckets();
    const a = await fx().assembledNode(buckets);
    // Node b's router hands every change on 2.5 s late: past the 1.5 s a write that lost its race waits for it.
    const b = await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 2500) });
    const onA = await a.runtime.session('s');
    await onA.defineVariable('x', 'integer', 1);
    const onB = await b.runtime.session('s');
    await waitFor(() => onB.hasVariable('x'), { timeout: 10_000 });
    const seen: VariableChange[] = [];
    await onB.watchVariables('x', (change) => seen.push(change));

    await onA.deleteVariable('x', { updatedBy: 'ann' });
    await onA.defineVariable('x', 'integer', 10);
    await onA.setVariable('x', 20);
    // Node b has routed none of it yet: its write loses the race, waits 1.5 s, then folds in what it re-read.
    expect(await onB.setVariable('x', 99)).toMatchObject({ value: 99, version: 3 });
    // The late deliveries are old news by then, and are told nothing more.
    await new Promise((resolve) => setTimeout(resolve, 3500));

    expect(
      seen.map(({ version, oldValue, newValue, deleted, gap }) => ({ version, oldValue, newValue, deleted, gap })),
    ).toEqual([
      { version: 2, oldValue: undefined, newValue: undefined, deleted: true, gap: true },
      // Version 1 (10) was never seen: the new variable's first change comes marked.
      { version: 2, oldValue: undefined, newValue: 20, deleted: undefined, gap: true },
      { version: 3, oldValue: 20, newValue: 99, deleted: undefined, gap: undefined },
    ]);
    expect(seen[0]).toMatchObject({ name: 'x', updatedBy: null });
  }, 30_000);
});
