import { ax } from '@ax-llm/ax';
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError, createLanguageModel, parseWireSpec } from '../../src/index.js';
import { axServiceOf } from '../../src/modules/ax-bridge.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useStubbedSession } from '../support/stubbed-session.js';
import { text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const { stub, session } = useStubbedSession('examples');

const SIGNATURE = 'question:string -> answer:string';
const base = { type: 'Predict', signature: SIGNATURE, maxRetries: 0 } as const;
const EXAMPLES = [
  { question: 'What is 2 + 2?', answer: '4' },
  { question: 'Capital of France?', answer: 'Paris' },
];

/** A language model on the stub, as the session's runtime has. */
const stubLlm = () =>
  createLanguageModel({ provider: 'openai', url: stub().url, key: 'sk-test', model: 'gpt-4o-mini' });

/** The text of every message of the `index`th chat request the stub received. */
function sent(index: number): string {
  return JSON.stringify(stub().chatRequests[index]?.body.messages);
}

/** What `attempt` rejected with, as a ValidationError. */
async function refused(attempt: Promise<unknown>): Promise<ValidationError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('module examples', () => {
  it('sends a spec’s examples as Ax renders them for a raw program given the same ones', async () => {
    stub().fallback = () => text('Answer: ok');
    const qa = await session().module('qa', { ...base, examples: EXAMPLES });
    await qa.execute({ question: 'Capital of Peru?' });
    const raw = ax(SIGNATURE);
    raw.setExamples(EXAMPLES);
    await raw.forward(axServiceOf(stubLlm()), { question: 'Capital of Peru?' }, { stream: false, maxRetries: 0 });
    const [module, plain] = stub().chatRequests;
    expect(module!.body.messages).toEqual(plain!.body.messages);
    expect(sent(0)).toContain('Capital of France?');
  });

  it('reaches the prompt of every type with one program, and keeps them across a type swap', async () => {
    stub().fallback = () => text('Reasoning: r\nAnswer: ok');
    const reward = { reward: () => 1 };
    const types: [string, object][] = [
      ['Predict', {}],
      ['ChainOfThought', {}],
      ['ReAct', { tools: [{ name: 'look', description: 'looks', func: () => 'x' }] }],
      ['MultiChainComparison', {}],
      ['BestOfN', reward],
      ['Refine', { ...reward, threshold: 0 }],
    ];
    for (const [index, [type, needs]] of types.entries()) {
      const qa = await session().module(`m${index}`, { ...base, type, examples: EXAMPLES, ...needs } as never);
      await qa.execute({ question: 'q' });
      expect(sent(stub().chatRequests.length - 1), type).toContain('Capital of France?');
    }
    await session().defineVariable('kind', 'module', 'ChainOfThought');
    const swapped = await session().module('sw', { signature: SIGNATURE, typeVariable: 'kind', examples: EXAMPLES });
    await session().setVariable('kind', 'Predict');
    expect((await swapped.execute({ question: 'q' })).moduleType).toBe('Predict');
    expect(sent(stub().chatRequests.length - 1)).toContain('Capital of France?');
  });

  it('refuses a type swap whose new type cannot take the bound examples, keeping the type and its examples', async () => {
    stub().fallback = () => text('Reasoning: r\nAnswer: ok');
    const shots = [{ question: 'What is 2 + 2?', reasoning: 'two and two', answer: '4' }];
    await session().defineVariable('kind', 'module', 'ChainOfThought');
    await session().defineVariable('shots', 'json', shots);
    const qa = await session().module('qa', {
      signature: SIGNATURE,
      typeVariable: 'kind',
      bindings: { examples: 'shots' },
    });
    await session().setVariable('kind', 'Predict');
    const held = await qa.execute({ question: 'q' });
    expect(held.moduleType).toBe('ChainOfThought');
    expect(held.syncFailed).toMatchObject({
      code: 'validation_failed',
      details: { field: 'examples', exampleField: 'reasoning', variable: 'shots' },
    });
    expect(sent(0)).toContain('two and two');
  });

  it('sends the examples a bound variable holds now, and names its version in the provenance', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('shots', 'json', EXAMPLES.slice(0, 1));
    const qa = await session().module('qa', { ...base, bindings: { examples: 'shots' } });
    expect((await qa.execute({ question: 'q' })).provenance).toEqual({ shots: 1 });
    await session().setVariable('shots', [{ question: 'Colour of the sky?', answer: 'blue' }]);
    expect((await qa.execute({ question: 'q' })).provenance).toEqual({ shots: 2 });
    expect(sent(0)).toContain('What is 2 + 2?');
    expect(sent(1)).toContain('Colour of the sky?');
    expect(sent(1)).not.toContain('What is 2 + 2?');
  });

  it('refuses examples that are no list, no objects, name no field or hold what Ax refuses, creating nothing', async () => {
    const cases: [unknown, Record<string, unknown>, RegExp][] = [
      [{ question: 'q' }, {}, /needs a list of examples, got an object/],
      [['q'], { index: 0 }, /needs an object of fields, got "q" \(example 0\)/],
      [[{ question: 'q' }, { questoin: 'q' }], { index: 1, exampleField: 'questoin' }, /has no field 'questoin'/],
      [[{ answer: 'x' }], { index: 0, exampleField: 'answer' }, /cannot take "x" for 'answer'/],
      [Array.from({ length: 65 }, () => ({ answer: 1 })), {}, /at most 64 examples, got 65/],
    ];
    for (const [examples, details, message] of cases) {
      const spec = { ...base, signature: 'question:string -> answer:number', examples } as never;
      const error = await refused(session().module('qa', spec));
      expect(error.message).toMatch(message);
      expect(error.details).toMatchObject({ field: 'examples', ...details });
    }
    const pot = await refused(session().module('qa', { ...base, type: 'ProgramOfThought', examples: EXAMPLES }));
    expect(pot.message).toMatch(/module type ProgramOfThought does not use examples/);
    expect(pot.details).toMatchObject({ field: 'examples', moduleType: 'ProgramOfThought' });
    expect(() => parseWireSpec({ ...base, examples: 'q' })).toThrow(/needs a list of examples/);
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toEqual([]);
  });

  it('refuses a bound value that is no examples at sync, keeping the last good ones', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('shots', 'list', EXAMPLES);
    const qa = await session().module('qa', { ...base, bindings: { examples: 'shots' } });
    await qa.execute({ question: 'q' });
    await session().setVariable('shots', [{ query: 'q' }]);
    const held = await qa.execute({ question: 'q' });
    expect(held.syncFailed).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining("has no field 'query' in the signature"),
      details: { field: 'examples', index: 0, exampleField: 'query', variable: 'shots' },
    });
    expect(sent(1)).toContain('Capital of France?');
  });
});

describe('module examples across hibernation', () => {
  it('sends the examples again once the module wakes', async () => {
    const own = stub;
    const runtime = await Runtime.start({ llm: stubLlm(), sessionTtlMs: 60_000, hibernateAfterMs: 100 });
    try {
      own().fallback = () => text('Answer: ok');
      const slept = await runtime.session('h');
      const qa = await slept.module('qa', { ...base, examples: EXAMPLES });
      await waitFor(() => runtime.whereis(moduleProcessName('h', 'qa')) === undefined, { interval: 20 });
      await qa.execute({ question: 'q' });
      expect(sent(own().chatRequests.length - 1)).toContain('Capital of France?');
    } finally {
      await runtime.stop();
    }
  });
});
