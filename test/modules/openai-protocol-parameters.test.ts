import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  BestOfN,
  type LanguageModel,
  MultiChainComparison,
  Predict,
  Refine,
  VariableAwareChainOfThought,
  VariableAwarePredict,
  createLanguageModel,
} from '../../src/modules/index.js';
import type { FakeSession } from '../support/fake-session.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { SIGNATURE, boundPredictOn, useWire } from '../support/openai-wire.js';

let stub: OpenAIStub;
let llm: LanguageModel;
let session: FakeSession;

useWire((wire) => ({ stub, llm, session } = wire));

const boundPredict = (): Promise<VariableAwarePredict> => boundPredictOn(session, llm);

describe('OpenAI protocol (real Ax provider against the local stub)', () => {
  it('sends the bound temperature, max tokens and model after setVariable', async () => {
    const module = await boundPredict();
    stub.reply(text('Answer: Paris'), text('Answer: Lyon'));
    expect((await module.forward({ question: 'capital?' })).output).toEqual({ answer: 'Paris' });
    await session.setVariable('llm_temperature', 0.9);
    const result = await module.forward({ question: 'second city?' });
    expect(result.output).toEqual({ answer: 'Lyon' });
    expect(result.provenance).toEqual({ llm_temperature: 2, max_tokens: 1, llm_model: 1 });
    const [first, second] = stub.chatRequests.map((r) => r.body);
    expect(first).toMatchObject({ temperature: 0.7, max_completion_tokens: 256, model: 'gpt-4.1-mini' });
    expect(second).toMatchObject({ temperature: 0.9, max_completion_tokens: 256, model: 'gpt-4.1-mini' });
  });

  it('sends a changed model and max tokens on the next request', async () => {
    const module = await boundPredict();
    await session.setVariable('max_tokens', 512);
    await session.setVariable('llm_model', 'gpt-4o');
    stub.reply(text('Answer: ok'));
    await module.forward({ question: 'q' });
    expect(stub.chatRequests[0]?.body).toMatchObject({ max_completion_tokens: 512, model: 'gpt-4o' });
  });

  // Found by a review: no test saw topP, the penalties or the stop sequences on the wire, bound or changed.
  it('sends the bound topP, presence and frequency penalties and stop sequences, and their changed values', async () => {
    for (const [name, value] of Object.entries({ p: 0.5, pres: 0.25, freq: -0.5, stops: ['END'] })) {
      await session.setVariable(name, value);
    }
    const module = new VariableAwarePredict(SIGNATURE, { session, llm, maxRetries: 0 });
    await module.bindToVariable('topP', 'p');
    await module.bindToVariable('presencePenalty', 'pres');
    await module.bindToVariable('frequencyPenalty', 'freq');
    await module.bindToVariable('stopSequences', 'stops');
    stub.reply(text('Answer: one'), text('Answer: two'));
    await module.forward({ question: 'first?' });
    await session.setVariable('p', 0.9);
    await session.setVariable('pres', 1);
    await session.setVariable('freq', 1.5);
    await session.setVariable('stops', ['STOP', 'HALT']);
    const result = await module.forward({ question: 'second?' });
    expect(result.provenance).toEqual({ p: 2, pres: 2, freq: 2, stops: 2 });
    const [first, second] = stub.chatRequests.map((r) => r.body);
    expect(first).toMatchObject({ top_p: 0.5, presence_penalty: 0.25, frequency_penalty: -0.5, stop: ['END'] });
    expect(second).toMatchObject({ top_p: 0.9, presence_penalty: 1, frequency_penalty: 1.5, stop: ['STOP', 'HALT'] });
  });

  it('costs exactly one request per ChainOfThought forward', async () => {
    const module = new VariableAwareChainOfThought(SIGNATURE, { session, llm, maxRetries: 0 });
    stub.reply(text('Reasoning: Paris is the capital.\nAnswer: Paris'), text('Reasoning: again\nAnswer: Paris'));
    const first = await module.forward({ question: 'capital?' });
    expect(first.output).toEqual({ answer: 'Paris' });
    expect(first.reasoning).toBe('Paris is the capital.');
    expect(stub.chatRequests).toHaveLength(1);
    await module.forward({ question: 'capital again?' });
    expect(stub.chatRequests).toHaveLength(2);
  });

  // Ax's behaviour, documented in README.md and docs/protocol.md: this notices an Ax upgrade that changes it.
  it('sends no top_k, and thinkingTokenBudget as reasoning_effort remapped by Ax, whatever the model', async () => {
    const sent: Record<string, unknown> = {};
    for (const budget of ['minimal', 'low', 'medium', 'high', 'highest', 'none'] as const) {
      const module = new VariableAwarePredict(SIGNATURE, { session, llm, maxRetries: 0 });
      module.topK = 40;
      module.thinkingTokenBudget = budget;
      await module.forward({ question: 'q' });
      const body = stub.chatRequests.at(-1)?.body ?? {};
      expect(body).not.toHaveProperty('top_k');
      sent[budget] = 'reasoning_effort' in body ? body.reasoning_effort : '(left out)';
    }
    expect(sent).toEqual({
      minimal: 'minimal',
      low: 'medium',
      medium: 'high',
      high: 'high',
      highest: 'xhigh',
      none: '(left out)',
    });
  });

  // Ax refuses it ("Thinking is not verified for profile openai-compatible…"): said as the setting's fault.
  it('fails every openai-compatible execution with a thinking budget other than none, before any request', async () => {
    const compatible = createLanguageModel({ provider: 'openai-compatible', url: stub.url, model: 'gpt-4o-mini' });
    const module = new VariableAwarePredict(SIGNATURE, { session, llm: compatible, maxRetries: 0 });
    module.thinkingTokenBudget = 'low';
    await expect(module.forward({ question: 'q' })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'thinkingTokenBudget', provider: 'openai-compatible', model: 'gpt-4o-mini' },
    });
    expect(stub.chatRequests).toEqual([]);
    module.thinkingTokenBudget = 'none';
    await module.forward({ question: 'q' });
    expect(stub.chatRequests[0]?.body).not.toHaveProperty('reasoning_effort');
  });

  it('sends no Authorization header to a provider given no key, and the key, trimmed, to one given it', async () => {
    const authorizations: unknown[] = [];
    for (const key of [undefined, 'sk-local', '\nsk-local\n']) {
      const keyless = createLanguageModel({
        provider: 'openai-compatible',
        url: stub.url,
        model: 'local-model',
        ...(key ? { key } : {}),
      });
      const module = new VariableAwarePredict(SIGNATURE, { session, llm: keyless, maxRetries: 0 });
      await module.forward({ question: 'q' });
      authorizations.push(stub.chatRequests.at(-1)?.headers.authorization);
    }
    // A key's white space at its ends (a line break from a file) is not sent: at its start it would be in the header.
    expect(authorizations).toEqual([undefined, 'Bearer sk-local', 'Bearer sk-local']);
  });

  it('sends the instructions attribute as the system prompt, per execution', async () => {
    const module = new VariableAwarePredict(SIGNATURE, {
      session,
      llm,
      maxRetries: 0,
      instructions: 'Answer in French.',
    });
    await session.setVariable('style', 'Answer in German.');
    stub.reply(text('Answer: Paris'), text('Answer: Berlin'));
    await module.forward({ question: 'q' });
    await module.bindToVariable('instructions', 'style');
    await module.forward({ question: 'q' });
    const systems = stub.chatRequests.map((r) => String(r.body.messages?.[0]?.content ?? ''));
    expect(systems[0]).toContain('Answer in French.');
    expect(systems[1]).toContain('Answer in German.');
    expect(systems[1]).not.toContain('Answer in French.');
  });

  it("puts the instructions before the signature's description, which stays; empty instructions are none", async () => {
    const module = new VariableAwarePredict('"Answer geography questions" question:string -> answer:string', {
      session,
      llm,
      maxRetries: 0,
    });
    await session.setVariable('style', '');
    await module.bindToVariable('instructions', 'style');
    stub.fallback = () => text('Answer: Paris');
    for (const style of ['Answer in German.', '']) {
      await session.setVariable('style', style);
      await module.forward({ question: 'q' });
    }
    const tasks = stub.chatRequests.map(
      (r) => /<task_definition>\n([^]*?)\n<\/task_definition>/.exec(r.body.messages[0].content)?.[1],
    );
    expect(tasks).toEqual(['Answer in German.\n\nAnswer geography questions.', 'Answer geography questions.']);
  });

  it('refuses, at the execution and before any request, a parameter set on the module that it cannot take', async () => {
    const plain = new Predict(SIGNATURE, { llm, maxRetries: 0 });
    const aware = new VariableAwarePredict(SIGNATURE, { session, llm, maxRetries: 0 });
    const wrong: [keyof Predict, unknown, string][] = [
      ['temperature', 5, "module setting 'temperature' must be a number from 0 to 2, got 5"],
      ['maxTokens', 0, "module setting 'maxTokens' must be an integer from 1 to 1000000, got 0"],
      // Spread by Ax into its characters, it went out as stop: ['E', 'N', 'D'].
      ['stopSequences', 'END', 'attribute \'stopSequences\' needs a list of strings, got "END"'],
      ['model', '', 'attribute \'model\' needs a model name, got ""'],
    ];
    for (const module of [plain, aware]) {
      for (const [attribute, value, message] of wrong) {
        Object.assign(module, { [attribute]: value });
        const execution = module.forward({ question: 'q' });
        await expect(execution, attribute).rejects.toBeInstanceOf(ValidationError);
        await expect(execution, attribute).rejects.toThrow(message);
        Object.assign(module, { [attribute]: undefined });
      }
    }
    expect(stub.chatRequests).toEqual([]);
    // What it can take goes out as set.
    plain.temperature = 1.5;
    await plain.forward({ question: 'q' });
    expect(stub.chatRequests[0]?.body.temperature).toBe(1.5);
  });

  // Ax's behaviour, documented on ModuleParameters: this notices an Ax upgrade that changes it.
  it('sends a sampling module a temperature of 1 as 0.8, and BestOfN and Refine an unset one as 0.8 too', async () => {
    stub.fallback = (request) =>
      JSON.stringify(request.body.messages).includes('actionable advice')
        ? text('Summary: none\nAdvice: {}')
        : text('Answer: x');
    const reward = () => 0;
    const sent = async (module: { forward: Predict['forward'] }): Promise<unknown[]> => {
      stub.requests.length = 0;
      await module.forward({ question: 'q' });
      return stub.chatRequests
        .filter((request) => !JSON.stringify(request.body.messages).includes('actionable advice'))
        .map((request) => request.body.temperature);
    };
    const options = { llm, maxRetries: 0 };
    expect(await sent(new Predict(SIGNATURE, options))).toEqual([0]);
    expect(await sent(new Predict(SIGNATURE, { ...options, temperature: 1 }))).toEqual([1]);
    expect(await sent(new BestOfN(SIGNATURE, { ...options, n: 2, reward }))).toEqual([0.8]);
    expect(await sent(new BestOfN(SIGNATURE, { ...options, n: 2, reward, temperature: 1 }))).toEqual([0.8]);
    expect(await sent(new BestOfN(SIGNATURE, { ...options, n: 2, reward, temperature: 0.3 }))).toEqual([0.3]);
    expect(await sent(new Refine(SIGNATURE, { ...options, rounds: 2, reward }))).toEqual([0.8, 0.8]);
    expect(await sent(new MultiChainComparison(SIGNATURE, { ...options, samples: 2 }))).toEqual([0]);
    expect(await sent(new MultiChainComparison(SIGNATURE, { ...options, samples: 2, temperature: 1 }))).toEqual([0.8]);
  });
});
