/**
 * OpenAI's o-series models (o1, o3-mini, o4-mini, …) take a limit on their answer only as `max_completion_tokens`
 * (they refuse `max_tokens`), but Ax 24 leaves every sampling field out of a request for them, that limit included:
 * a module's `maxTokens`, bound to a variable to cap the cost of a model that reasons at length, never reached the
 * provider, while the result's provenance named the variable's version as used (found by the provider audit).
 */
import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('reasoning');

const signature = 'question:string -> answer:string';

describe('maxTokens for an o-series model', () => {
  it('goes out as max_completion_tokens, its changed value on the next request, as for any other model', async () => {
    stub().fallback = () => text('Answer: x');
    await session().defineVariable('cap', 'integer', 300);
    await session().defineVariable('llm', 'string', 'o3-mini');
    const module = await session().module('m', {
      type: 'Predict',
      signature,
      maxRetries: 0,
      bindings: { maxTokens: 'cap', model: 'llm' },
    });
    await module.execute({ question: 'q' });
    await session().setVariable('cap', 500);
    await module.execute({ question: 'q' });
    await session().setVariable('llm', 'o4-mini');
    await module.execute({ question: 'q' });
    await session().setVariable('llm', 'gpt-4o');
    await module.execute({ question: 'q' });
    const sent = stub().chatRequests.map(({ body }) => [body.model, body.max_completion_tokens, body.max_tokens]);
    expect(sent).toEqual([
      ['o3-mini', 300, undefined],
      ['o3-mini', 500, undefined],
      ['o4-mini', 500, undefined],
      ['gpt-4o', 500, undefined],
    ]);
  });

  it('is not sent when the module sets none, and the settings the model refuses stay out', async () => {
    stub().fallback = () => text('Answer: x');
    const module = await session().module('m', {
      type: 'Predict',
      signature,
      maxRetries: 0,
      model: 'o1',
      temperature: 0.3,
      topP: 0.5,
    });
    await module.execute({ question: 'q' });
    const bounded = await session().module('bounded', {
      type: 'Predict',
      signature,
      maxRetries: 0,
      model: 'o1',
      maxTokens: 64,
    });
    await bounded.execute({ question: 'q' });
    const [free, capped] = stub().chatRequests.map(({ body }) => body);
    expect(free).not.toHaveProperty('max_completion_tokens');
    expect(free).not.toHaveProperty('temperature');
    expect(free).not.toHaveProperty('top_p');
    expect(capped).toMatchObject({ model: 'o1', max_completion_tokens: 64 });
  });
});

// Ax's behaviour, documented in README.md and docs/protocol.md: this notices an Ax upgrade that changes it.
describe("what Ax leaves out for OpenAI's reasoning models", () => {
  it('sends no sampling setting nor samples to an o-series model, and no temperature nor topP to a GPT-5', async () => {
    stub().fallback = () => text('Answer: x');
    const settings = { temperature: 0.5, topP: 0.5, presencePenalty: 1, frequencyPenalty: 1, maxTokens: 50 };
    const sampled = await session().module('o', {
      type: 'MultiChainComparison',
      signature,
      maxRetries: 0,
      samples: 3,
      model: 'o3-mini',
      ...settings,
    });
    expect((await sampled.execute({ question: 'q' })).output).toEqual({ answer: 'x' });
    const five = await session().module('five', {
      type: 'Predict',
      signature,
      maxRetries: 0,
      model: 'gpt-5',
      ...settings,
    });
    await five.execute({ question: 'q' });
    const [o, gpt5] = stub().chatRequests.map(({ body }) => body);
    expect(stub().chatRequests).toHaveLength(2);
    const sampling = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'n'];
    expect(sampling.filter((field) => field in (o ?? {}))).toEqual([]);
    expect(o).toMatchObject({ max_completion_tokens: 50 });
    expect(sampling.filter((field) => field in (gpt5 ?? {}))).toEqual(['presence_penalty', 'frequency_penalty']);
    expect(gpt5).toMatchObject({ max_completion_tokens: 50 });
  });
});
