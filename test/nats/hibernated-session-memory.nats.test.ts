import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

describe('a hibernated session on a node', () => {
  it('lets its variables go even while one of its modules keeps a handle to the session', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel(), hibernateAfterMs: 40 });
    const session = await node.session('sleepy');
    await session.defineVariable('big', 'string', 'x'.repeat(100_000));
    await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    // The record object the session's process holds in its state, watched without keeping it alive.
    const held = new WeakRef(await session.describeVariable('big'));

    await waitFor(() => !node.sessionIds().includes('sleepy'), { timeout: 3000, message: 'the session hibernates' });
    // WeakRef targets stay until the current job ends: collect on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();

    expect(held.deref()).toBeUndefined();
    // Nothing lost: the next use wakes the session from the store, and the module runs on.
    expect(((await session.getVariable('big')) as string).length).toBe(100_000);
    expect((await (await session.module('qa')).execute({ question: 'still here?' })).moduleId).toBe('qa');
  });
});
