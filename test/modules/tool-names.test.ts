import { describe, expect, it } from 'vitest';
import { ReAct, Runtime, VariableAwareReAct, createEchoModel, type ModuleTool } from '../../src/index.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('tool-names');

/**
 * OpenAI's chat completions (and the providers speaking its protocol) refuse a function name outside
 * `^[a-zA-Z0-9_-]{1,64}$` with HTTP 400, on every request that carries it, and Ax keeps two names for itself. Such a
 * tool is refused when a runtime or a module takes it, naming the tool, and nothing is created.
 */
const badNames = ['look up', 'lookup.v2', 'x'.repeat(65), 'lööp', '__axOutput', '__finalResult'];
const tool = (name: string): ModuleTool => ({ name, description: 'Looks something up', func: () => 'found' });
const agentSpec = (tools: ModuleTool[]) =>
  ({ type: 'ReAct', signature: 'question:string -> answer:string', maxRetries: 0, tools }) as const;

describe('a ReAct tool whose name no provider takes', () => {
  it.each(badNames)(
    'is refused when a module is created with it (%s), naming the tool, and no module is made',
    async (name) => {
      const refused = await session()
        .module('agent', agentSpec([tool(name)]))
        .catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'validation_failed', details: { field: 'tools[0]', tool: name } });
      expect((refused as Error).message).toContain(`'${name}'`);
      expect(await session().modules()).toEqual([]);
      expect(stub().chatRequests).toHaveLength(0);
    },
  );

  it.each(badNames)('is refused when a runtime starts with it (%s)', async (name) => {
    const refused = await Runtime.start({ tools: [tool(name)] }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'validation_failed' });
    expect((refused as Error).message).toContain(`'${name}'`);
  });

  it.each(badNames)('is refused when a ReAct module is built with it directly (%s), naming the tool', (name) => {
    const signature = 'question:string -> answer:string';
    for (const build of [
      () => new ReAct(signature, { llm: createEchoModel(), tools: [tool('fine'), tool(name)] }),
      () => new VariableAwareReAct(signature, { llm: createEchoModel(), tools: [tool('fine'), tool(name)] }),
    ]) {
      expect(build).toThrow(
        expect.objectContaining({ code: 'validation_failed', details: { field: 'tools[1]', tool: name } }),
      );
      expect(build).toThrow(`'${name}'`);
    }
  });

  it('is refused when it is no string, as the name of a tool a ReAct module is built with', () => {
    const unnamed = { ...tool('x'), name: 5 } as unknown as ModuleTool;
    expect(() => new ReAct('question:string -> answer:string', { llm: createEchoModel(), tools: [unnamed] })).toThrow(
      expect.objectContaining({ code: 'validation_failed', details: { field: 'tools[0]', got: '5' } }),
    );
  });

  it('takes every name providers take: letters, digits, _ and -, up to 64 characters', async () => {
    const names = ['lookup', 'look_up', 'look-up', 'Lookup2', 'x'.repeat(64)];
    const runtime = await Runtime.start({ tools: names.map(tool) });
    await runtime.stop();
    const agent = await session().module('agent', agentSpec(names.map(tool)));
    expect((await agent.describe()).moduleType).toBe('ReAct');
  });
});

describe('two ReAct tools of one name', () => {
  it('are refused when a ReAct module is built with them directly, naming the tool and the second place', () => {
    const signature = 'question:string -> answer:string';
    const tools = [tool('lookup'), tool('fine'), { ...tool('lookup'), description: 'Looks elsewhere' }];
    for (const build of [
      () => new ReAct(signature, { llm: createEchoModel(), tools }),
      () => new VariableAwareReAct(signature, { llm: createEchoModel(), tools }),
    ]) {
      expect(build).toThrow(
        expect.objectContaining({ code: 'validation_failed', details: { field: 'tools[2]', tool: 'lookup' } }),
      );
      expect(build).toThrow("'lookup'");
    }
  });
});

describe('a ReAct module without tools', () => {
  it('is refused naming where a spec gives its tools, and no module is made', async () => {
    // It named only `options.tools`: a spec given `options` is refused for that unknown key.
    const refused = await session()
      .module('agent', { type: 'ReAct', signature: 'question:string -> answer:string', maxRetries: 0 })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'validation_failed', details: { field: 'tools', constraint: 'required' } });
    expect((refused as Error).message).toBe(
      "ReAct needs at least one tool (a module spec's tools, a module class's options.tools, or tether module " +
        'create --tool <name>); without tools use Predict or ChainOfThought',
    );
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toHaveLength(0);
  });
});
