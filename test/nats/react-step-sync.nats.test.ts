import { describe, expect, it, vi } from 'vitest';
import type { ModuleEvent, ModuleTool, RemoteSession } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, toolCall, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { REACT_AGENT_SPEC } from '../support/react-agent-spec.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const openai = useOpenAIStub();

describe('a sync between the steps of a ReAct execution that is refused, on a NATS node', () => {
  it("is in the remote client's result and reaches a plain subscriber as module.syncFailed", async () => {
    let session!: RemoteSession;
    // The node's tool changes the variable through the remote client, as another process would.
    const lookup: ModuleTool = {
      name: 'lookup',
      description: 'Look up a fact',
      parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      func: async () => {
        await session.setVariable('knob', 'hot');
        return 'fact: 42';
      },
    };
    const node = await fx().runtime(fx().buckets(), { llm: openai.llm(), tools: [lookup] });
    session = await (await fx().client()).session('react-sync');
    await session.defineVariable('knob', 'json', 0.2);
    const agent = await session.module('agent', REACT_AGENT_SPEC);
    const events: ModuleEvent[] = [];
    const subscription = nc().subscribe('tether.v1.events.react-sync.module.agent', {
      callback: (_error, msg) => events.push(msg.json()),
    });
    await nc().flush();
    openai.stub().reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
    // The node has no onSyncError handler for its modules: the refused sync is a process warning there too.
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const result = await agent.execute({ question: 'q' }).finally(() => warning.mockRestore());
    expect(result.output).toEqual({ answer: '42' });
    expect(result.syncFailed).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('temperature'),
    });
    await waitFor(() => events.some((event) => event.type === 'module.result'), { message: 'the result event' });
    subscription.unsubscribe();
    expect(events.filter((event) => event.type === 'module.syncFailed')).toEqual([
      {
        type: 'module.syncFailed',
        sessionId: 'react-sync',
        moduleId: 'agent',
        nodeId: node.nodeId,
        incarnation: session.incarnation,
        executionId: result.executionId,
        error: result.syncFailed,
      },
    ]);
    // The step after the refused sync was sent the last good value.
    expect(openai.stub().chatRequests.map((request) => request.body.temperature)).toEqual([0.2, 0.2]);
  });
});
