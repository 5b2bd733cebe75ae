import { describe, expect, it } from 'vitest';
import { type ModuleTool, type Runtime } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub, text, toolCall } from '../support/openai-stub.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();
const llm = stubbed.llm;

/** Whether the node runs a process of the module (looked up, not woken as `session.module(id)` would). */
const runsHere = (runtime: Runtime, sessionId: string, moduleId: string) =>
  runtime.whereis(moduleProcessName(sessionId, moduleId)) !== undefined;

/** The node's own process of the module, which the test has seen running there. */
async function localModule(runtime: Runtime, sessionId: string, moduleId: string) {
  expect(runsHere(runtime, sessionId, moduleId)).toBe(true);
  return (await runtime.session(sessionId)).module(moduleId);
}

describe('waking modules from their specs', () => {
  it('runs a module created through node A on node B, woken from its spec, and swaps its type there too', async () => {
    stubbed.stub().fallback = () => text('Reasoning: because\nAnswer: ok');
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('wake');
    await session.defineVariable('reasoning_module', 'module', 'ChainOfThought');
    // Node A is the only node: it takes the creation, and with it the only process so far.
    const qa = await session.module('qa', {
      typeVariable: 'reasoning_module',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
    });
    expect(runsHere(a, 'wake', 'qa')).toBe(true);
    expect((await qa.execute({ question: 'first' })).moduleType).toBe('ChainOfThought');

    const b = await fx().runtime(buckets, { llm: llm() });
    expect(runsHere(b, 'wake', 'qa')).toBe(false);
    // Until node B has taken one: it has no process, so it must wake the module from the spec A wrote.
    for (let i = 0; i < 200 && !runsHere(b, 'wake', 'qa'); i++) {
      expect((await qa.execute({ question: `before ${i}` })).moduleType).toBe('ChainOfThought');
    }
    expect((await (await localModule(b, 'wake', 'qa')).describe()).moduleType).toBe('ChainOfThought');

    await session.setVariable('reasoning_module', 'Predict');
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => qa.execute({ question: `after ${i}` })));
    for (const result of after)
      expect(result).toMatchObject({ moduleId: 'qa', moduleType: 'Predict', provenance: { reasoning_module: 2 } });
    for (const node of [a, b])
      expect(await (await localModule(node, 'wake', 'qa')).describe()).toMatchObject({ moduleType: 'Predict' });
    expect((await session.modules()).map((m) => m.moduleId)).toEqual(['qa']);
  }, 60_000);

  it('resolves tool names on the node that wakes the module', async () => {
    const calls: string[] = [];
    const lookup = (node: string): ModuleTool => ({
      name: 'lookup',
      description: 'Looks a word up',
      parameters: {
        type: 'object',
        properties: { word: { type: 'string', description: 'the word' } },
        required: ['word'],
      },
      func: (args) => {
        calls.push(node);
        return `${String(args.word)} means hello`;
      },
    });
    // A tool call first, then the answer once the tool's result is in the conversation.
    stubbed.stub().fallback = (request) =>
      request.body.messages?.some((m: { role: string }) => m.role === 'tool')
        ? text('Answer: hello')
        : toolCall('lookup', { word: 'hola' });
    const buckets = fx().buckets();
    const nodes = [
      await fx().runtime(buckets, { llm: llm(), tools: [lookup('a')] }),
      await fx().runtime(buckets, { llm: llm(), tools: [lookup('b')] }),
    ];
    const client = await fx().client();
    const session = await client.session('tools');
    const agent = await session.module('agent', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['lookup'],
      maxRetries: 0,
      maxSteps: 3,
    });
    for (let i = 0; i < 40 && new Set(calls).size < 2; i++)
      expect((await agent.execute({ question: 'what is hola?' })).output.answer).toBe('hello');
    expect(new Set(calls)).toEqual(new Set(['a', 'b']));
    for (const node of nodes) expect(runsHere(node, 'tools', 'agent')).toBe(true);
  }, 60_000);

  it('answers alike on every node while a bound variable holds a refused value, woken or running', async () => {
    stubbed.stub().fallback = () => text('Answer: ok');
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('refused');
    await session.defineVariable('temp', 'float', 0.5);
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
      bindings: { temperature: 'temp' },
    });
    expect((await qa.execute({ question: 'first' })).provenance).toEqual({ temp: 1 });
    await session.setVariable('temp', 9);

    const b = await fx().runtime(buckets, { llm: llm() });
    const results = [];
    // Node B wakes the module from its spec while `temp` holds a value its temperature cannot take.
    for (let i = 0; i < 200 && !runsHere(b, 'refused', 'qa'); i++)
      results.push(await qa.execute({ question: `before ${i}` }));
    results.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => qa.execute({ question: `both ${i}` })))));
    for (const node of [a, b]) expect(runsHere(node, 'refused', 'qa')).toBe(true);
    for (const result of results) {
      expect(result.syncFailed).toMatchObject({
        code: 'validation_failed',
        details: { variable: 'temp', field: 'temperature' },
      });
    }
    // Node A keeps its last good value; node B starts from the spec's own (none), which no version names.
    for (const result of results) expect([{ temp: 1 }, {}]).toContainEqual(result.provenance);
    expect(results.map((result) => result.provenance)).toContainEqual({});
    expect(stubbed.stub().chatRequests.map((request) => request.body.temperature)).not.toContain(9);

    // A value it can take is applied on both nodes alike.
    await session.setVariable('temp', 0.2);
    const fixed = await Promise.all(Array.from({ length: 10 }, (_, i) => qa.execute({ question: `after ${i}` })));
    for (const result of fixed) {
      expect(result).not.toHaveProperty('syncFailed');
      expect(result.provenance).toEqual({ temp: 3 });
    }
  }, 60_000);
});
