/**
 * A module woken from its stored spec on a node started without one of its tools. Found by an audit: the node said
 * only "unknown tool 'echo'; this node was started with no tools", naming neither the module nor where the name came
 * from, which read as a fault of the request that woke it.
 */
import { describe, expect, it } from 'vitest';
import { type ModuleTool, ValidationError } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const echo: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

describe('a module woken on a node without one of its tools', () => {
  it('is refused naming the module, its session and the tool its stored spec names', async () => {
    const buckets = fx().buckets();
    const withTool = await fx().runtime(buckets, { tools: [echo] });
    const without = await fx().runtime(buckets);
    await (
      await withTool.session('s1')
    ).module('agent', { type: 'ReAct', signature: 'question:string -> answer:string', tools: ['echo'] });

    const error = await (await without.session('s1')).module('agent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      "module 'agent' of session 's1' was created with the tool 'echo', which this node lacks: it was started with " +
        'no tools (Runtime.start({ tools }), or tether serve --tools); start every node with the same tools',
    );
    expect(error).toMatchObject({
      details: { field: 'tools[0]', tool: 'echo', available: [], moduleId: 'agent', sessionId: 's1' },
    });
    // The node with the tool still runs it.
    expect((await (await (await withTool.session('s1')).module('agent')).describe()).moduleType).toBe('ReAct');
  });
});
