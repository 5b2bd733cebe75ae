import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createLanguageModel, type ModuleTool, type Session } from '../../src/index.js';
import { OpenAIStub, text, toolCall } from '../support/openai-stub.js';

describe('the provenance of a ReAct execution whose tool changes bound variables', () => {
  let stub: OpenAIStub;
  let runtime: Runtime;
  afterEach(async () => {
    await runtime.stop();
    await stub.close();
  });

  /** A runtime on the stub with one tool, `lookup`, which makes `writes` to the session 'react', returned. */
  async function sessionWithLookup(writes: Readonly<Record<string, unknown>>): Promise<Session> {
    let session!: Session;
    const lookup: ModuleTool = {
      name: 'lookup',
      description: 'Look up a fact',
      func: async () => {
        for (const [name, value] of Object.entries(writes)) await session.setVariable(name, value);
        return 'fact: 42';
      },
    };
    stub = await OpenAIStub.start();
    runtime = await Runtime.start({
      llm: createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' }),
      tools: [lookup],
    });
    session = await runtime.session('react');
    return session;
  }

  it('reports the instructions the run was sent and the temperature of the last step', async () => {
    const session = await sessionWithLookup({ t: 1.5, ins: 'GAMMA rules.' });
    await session.defineVariable('t', 'float', 0.2);
    await session.defineVariable('ins', 'string', 'ALPHA rules.');
    const agent = await session.module('agent', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['lookup'],
      maxRetries: 0,
      bindings: { temperature: 't', instructions: 'ins' },
    });
    stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
    const result = await agent.execute({ question: 'q' });
    const sent = stub.chatRequests.map((request) => ({
      temperature: request.body.temperature,
      instructions: JSON.stringify(request.body.messages).match(/ALPHA|GAMMA/g),
    }));
    // Ax fixes the instructions for the whole run; the temperature follows the variable from step 2.
    expect(sent).toEqual([
      { temperature: 0.2, instructions: ['ALPHA'] },
      { temperature: 1.5, instructions: ['ALPHA'] },
    ]);
    expect(result.output).toEqual({ answer: '42' });
    expect(result.provenance).toEqual({ t: 2, ins: 1 });
  });

  it("leaves a change of the run's instructions to the next execution: its sync reports it and calls back", async () => {
    const session = await sessionWithLookup({ ins: 'GAMMA rules.' });
    await session.defineVariable('ins', 'string', 'ALPHA rules.');
    const called: unknown[][] = [];
    const agent = await session.module('agent', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['lookup'],
      maxRetries: 0,
      bindings: { instructions: { variable: 'ins', onChange: (...args: unknown[]) => void called.push(args) } },
    });
    const synced: unknown[] = [];
    agent.on('module.synced', (event) => synced.push(event.outcome.changes));

    stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
    await agent.execute({ question: 'q' });
    // The run went on with ALPHA (Ax fixes it when the run starts): no callback, no change reported yet.
    expect(called).toEqual([]);
    stub.reply(text('Answer: 43'));
    await agent.execute({ question: 'q' });
    expect(JSON.stringify(stub.chatRequests.at(-1)!.body.messages).match(/ALPHA|GAMMA/g)).toEqual(['GAMMA']);
    expect(synced.at(-1)).toEqual({ instructions: ['ALPHA rules.', 'GAMMA rules.'] });
    expect(called).toEqual([['instructions', 'ALPHA rules.', 'GAMMA rules.']]);
  });
});
