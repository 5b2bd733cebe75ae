import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/node/runtime.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/** What a listener keeps of a change. */
const seen = (change: VariableChange) => [change.name, change.newValue, change.version];

/**
 * Opens a session nobody watches on `node` and waits until its idle sweep has hibernated it. The sessions
 * touched before it have been idle at least as long, so every one the sweep may hibernate has been by then.
 */
async function idleSweepHasPassed(node: Runtime, witness: string): Promise<void> {
  await node.session(witness);
  await waitFor(() => !node.sessionIds().includes(witness), { message: `session ${witness} hibernated` });
}

describe('a session watched on a NATS node', () => {
  it('keeps hearing other nodes’ writes past its idle time, new variables included, in version order', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { hibernateAfterMs: 200 });
    const b = await fx().runtime(buckets);
    const watched = await a.session('config');
    await watched.defineVariable('x', 'integer', 0);
    const heard: unknown[][] = [];
    const unwatch = await watched.watchVariables('*', (change) => heard.push(seen(change)));
    const writer = await b.session('config');
    await writer.setVariable('x', 1);
    await waitFor(() => heard.length === 1, { message: 'x=1 heard' });

    await idleSweepHasPassed(a, 'witness');
    expect(a.sessionIds()).toContain('config');
    for (let i = 2; i <= 4; i++) await writer.setVariable('x', i);
    await writer.defineVariable('y', 'string', 'new');
    await waitFor(() => heard.length === 5, { message: 'x=2..4 and y heard' });
    expect(heard).toEqual([
      ['x', 1, 2],
      ['x', 2, 3],
      ['x', 3, 4],
      ['x', 4, 5],
      ['y', 'new', 1],
    ]);

    // Without its watcher the session is idle like any other, and hibernates.
    unwatch();
    await waitFor(() => !a.sessionIds().includes('config'), { message: 'config hibernated' });
    expect(await watched.getVariable('y')).toBe('new');
  });

  it('wakes a hibernated session when a watch starts, and feeds a glob watch of a variable defined later', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { hibernateAfterMs: 200 });
    const b = await fx().runtime(buckets);
    const session = await a.session('late');
    await session.defineVariable('conf_a', 'integer', 0);
    await waitFor(() => !a.sessionIds().includes('late'), { message: 'late hibernated' });
    const writer = await b.session('late');
    await writer.setVariable('conf_a', 1);

    const heard: unknown[][] = [];
    await session.watchVariables('conf_*', (change) => heard.push(seen(change)), { includeInitial: true });
    expect(a.sessionIds()).toContain('late');
    await idleSweepHasPassed(a, 'witness');
    expect(a.sessionIds()).toContain('late');
    await writer.setVariable('conf_a', 2);
    await writer.defineVariable('other', 'integer', 7);
    await writer.defineVariable('conf_b', 'boolean', true);
    await waitFor(() => heard.length === 3, { message: 'conf_a=2 and conf_b heard' });
    expect(heard).toEqual([
      ['conf_a', 1, 2],
      ['conf_a', 2, 3],
      ['conf_b', true, 1],
    ]);
  });
});
