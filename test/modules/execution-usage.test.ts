import { describe, expect, it } from 'vitest';
import { Runtime, createEchoModel, createLanguageModel, type LanguageModel, type Session } from '../../src/index.js';
import { Predict, type ModuleTool } from '../../src/modules/index.js';
import { BridgeError } from '../../src/errors/bridge-error.js';
import { httpError, text, toolCall, useOpenAIStub, type OpenAIStub, type StubUsage } from '../support/openai-stub.js';

const stubbed = useOpenAIStub();
const SIGNATURE = 'question:string -> answer:string';

/** Runs `test` in a session of an embedded runtime of its own on `llm` (by default the stub's, at `gpt-4o-mini`). */
async function withSession(
  test: (session: Session, stub: OpenAIStub) => Promise<void>,
  llm: LanguageModel = stubbed.llm(),
): Promise<void> {
  const runtime = await Runtime.start({ llm, tools: [lookup, broken] });
  try {
    await test(await runtime.session('usage'), stubbed.stub());
  } finally {
    await runtime.stop();
  }
}

/** What the next calls of `lookup` do first, one each: a test's change to the session between two ReAct steps. */
const beforeLookup: (() => Promise<unknown>)[] = [];

const lookup: ModuleTool = {
  name: 'lookup',
  description: 'Looks a word up',
  parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
  func: async () => {
    await beforeLookup.shift()?.();
    return 'found';
  },
};

const broken: ModuleTool = {
  name: 'broken',
  description: 'Always fails',
  parameters: { type: 'object', properties: {} },
  func: async () => {
    throw new Error('disk full');
  },
};

/** What `run` rejected with, which must be a Tether error. */
async function failureOf(run: Promise<unknown>): Promise<BridgeError> {
  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof BridgeError)) throw new Error(`expected a Tether error, got ${String(error)}`);
  return error;
}

const usage = (prompt: number, completion: number): StubUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

/** The stub's usage blocks summed, as a result reports them. */
function summed(blocks: readonly StubUsage[]) {
  return {
    promptTokens: blocks.reduce((sum, block) => sum + block.prompt_tokens, 0),
    completionTokens: blocks.reduce((sum, block) => sum + block.completion_tokens, 0),
    totalTokens: blocks.reduce((sum, block) => sum + block.total_tokens, 0),
  };
}

/** The `model` field of every chat request the stub received. */
const sentModels = (stub: OpenAIStub) => stub.chatRequests.map((request) => request.body.model as unknown);

describe('execution result model and usage', () => {
  it('names the bound model, as its requests sent it', () =>
    withSession(async (session, stub) => {
      await session.defineVariable('llm_model', 'string', 'gpt-4.1-mini');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: SIGNATURE,
        model: 'gpt-4o',
        maxRetries: 0,
        bindings: { model: 'llm_model' },
      });
      const result = await qa.execute({ question: 'q' });
      expect(sentModels(stub)).toEqual(['gpt-4.1-mini']);
      expect(result.model).toBe('gpt-4.1-mini');
    }));

  // Found by mutation: a result naming the model its first request sent, rather than its last, passed every test.
  it('names the model the last request sent when a bound model changes between ReAct steps', () =>
    withSession(async (session, stub) => {
      await session.defineVariable('llm_model', 'string', 'gpt-4o');
      beforeLookup.push(() => session.setVariable('llm_model', 'gpt-4.1-mini'));
      stub.reply(toolCall('lookup', { word: 'a' }), text('Answer: done'));
      const agent = await session.module('agent', {
        type: 'ReAct',
        signature: SIGNATURE,
        tools: ['lookup'],
        bindings: { model: 'llm_model' },
      });
      const result = await agent.execute({ question: 'q' });
      expect(sentModels(stub)).toEqual(['gpt-4o', 'gpt-4.1-mini']);
      expect(result.model).toBe('gpt-4.1-mini');
    }));

  it("names the spec's model, as its requests sent it", () =>
    withSession(async (session, stub) => {
      const qa = await session.module('qa', { type: 'Predict', signature: SIGNATURE, model: 'gpt-4o', maxRetries: 0 });
      const result = await qa.execute({ question: 'q' });
      expect(sentModels(stub)).toEqual(['gpt-4o']);
      expect(result.model).toBe('gpt-4o');
    }));

  it("names the language model's default, else the provider's, as its requests sent it", async () => {
    await withSession(async (session, stub) => {
      const result = await (
        await session.module('qa', { type: 'Predict', signature: SIGNATURE })
      ).execute({ question: 'q' });
      expect(sentModels(stub)).toEqual(['gpt-4o-mini']);
      expect(result.model).toBe('gpt-4o-mini');
    });
    stubbed.stub().requests.length = 0;
    // No model configured: Ax sends the provider's default, which nodes of different versions may not share.
    const unset = createLanguageModel({ provider: 'openai', url: stubbed.stub().url, key: 'sk-test' });
    await withSession(async (session, stub) => {
      const result = await (
        await session.module('qa', { type: 'Predict', signature: SIGNATURE })
      ).execute({ question: 'q' });
      expect(sentModels(stub)).toHaveLength(1);
      expect(result.model).toBe(sentModels(stub)[0]);
    }, unset);
    // A module used directly says the same.
    const direct = await new Predict(SIGNATURE, { llm: unset, maxRetries: 0 }).forward({ question: 'q' });
    expect(direct.model).toBe(sentModels(stubbed.stub()).at(-1));
  });

  it('sums the usage of every step of a ReAct run, as its module.result event does', () =>
    withSession(async (session, stub) => {
      stub.reply(
        toolCall('lookup', { word: 'a' }, usage(11, 3)),
        toolCall('lookup', { word: 'b' }, usage(17, 4)),
        text('Answer: done', usage(23, 6)),
      );
      const agent = await session.module('agent', { type: 'ReAct', signature: SIGNATURE, tools: ['lookup'] });
      const heard: unknown[] = [];
      agent.on('module.result', (event) => heard.push(event.result));
      const result = await agent.execute({ question: 'q' });
      expect(stub.chatRequests).toHaveLength(3);
      expect(result.usage).toEqual(summed(stub.usagesSent));
      expect(result.usage).toEqual({ promptTokens: 51, completionTokens: 13, totalTokens: 64 });
      expect(heard).toEqual([result]);
    }));

  it('counts the request a retry sent, and a streamed answer', () =>
    withSession(async (session, stub) => {
      // The first answer is not one of the classes: Ax asks again.
      stub.reply(text('Answer: maybe', usage(5, 1)), text('Answer: yes', usage(9, 2)));
      const signature = 'question:string -> answer:class "yes, no"';
      const qa = await session.module('qa', { type: 'Predict', signature, maxRetries: 1 });
      const retried = await qa.execute({ question: 'q' });
      expect(stub.chatRequests).toHaveLength(2);
      expect(retried.usage).toEqual({ promptTokens: 14, completionTokens: 3, totalTokens: 17 });
      // Streamed for a listener of its deltas: the usage comes in the stream's last event.
      stub.reply(text('Answer: no', usage(7, 7)));
      qa.on('module.delta', () => {});
      const streamed = await qa.execute({ question: 'q' });
      expect(stub.chatRequests.at(-1)?.body.stream).toBe(true);
      expect(streamed.usage).toEqual({ promptTokens: 7, completionTokens: 7, totalTokens: 14 });
      // Found by mutation: a provider may send usage in several events, the last the total; counting the first passed.
      stub.reply({ kind: 'text', content: 'Answer: no', usage: usage(7, 9), runningUsage: usage(7, 1) });
      const counted = await qa.execute({ question: 'q' });
      expect(counted.usage).toEqual({ promptTokens: 7, completionTokens: 9, totalTokens: 16 });
    }));

  it("sums the usage of BestOfN's candidates, and of Refine's rounds with the advice asked between them", () =>
    withSession(async (session, stub) => {
      let sent = 0;
      // Refine's advice is asked with a signature of its own (see refine-advice.test.ts).
      stub.fallback = (request) =>
        JSON.stringify(request.body.messages).includes('actionable advice')
          ? text('Summary: none\nAdvice: {}', usage(++sent, 2))
          : text('Answer: ok', usage(++sent, 1));
      const spec = { signature: SIGNATURE, reward: () => 0, maxRetries: 0 };
      const best = await (await session.module('best', { type: 'BestOfN', n: 3, ...spec })).execute({ question: 'q' });
      expect(best.usage).toEqual(summed(stub.usagesSent));
      stub.usagesSent.length = 0;
      const refined = await (
        await session.module('refined', { type: 'Refine', rounds: 2, ...spec })
      ).execute({
        question: 'q',
      });
      // Two rounds and the advice between them.
      expect(stub.usagesSent.length).toBeGreaterThanOrEqual(3);
      expect(refined.usage).toEqual(summed(stub.usagesSent));
    }));

  it('names the tokens a failed execution used in its error, as its module.failed event does', () =>
    withSession(async (session, stub) => {
      // Neither answer is one of the classes: the retry fails too, and both requests were paid for.
      stub.reply(text('Answer: maybe', usage(5, 1)), text('Answer: perhaps', usage(9, 2)));
      const signature = 'question:string -> answer:class "yes, no"';
      const qa = await session.module('qa', { type: 'Predict', signature, maxRetries: 1 });
      const heard: unknown[] = [];
      qa.on('module.failed', (event) => heard.push(event.error));
      const invalid = await failureOf(qa.execute({ question: 'q' }));
      expect(invalid.code).toBe('model_answer_invalid');
      expect(invalid.details.usage).toEqual({ promptTokens: 14, completionTokens: 3, totalTokens: 17 });
      expect(heard).toEqual([invalid.toJSON()]);
      // A ReAct run whose tool threw after a step, then a provider's refusal after another: each step's tokens.
      const agent = await session.module('agent', { type: 'ReAct', signature: SIGNATURE, tools: ['lookup', 'broken'] });
      stub.reply(toolCall('broken', {}, usage(11, 3)));
      const tool = await failureOf(agent.execute({ question: 'q' }));
      expect([tool.code, tool.details.usage]).toEqual([
        'tool_failed',
        { promptTokens: 11, completionTokens: 3, totalTokens: 14 },
      ]);
      stub.reply(toolCall('lookup', {}, usage(17, 4)), httpError(400, 'context too long', 'invalid_request_error'));
      const refused = await failureOf(agent.execute({ question: 'q' }));
      expect([refused.code, refused.details.usage]).toEqual([
        'provider_error',
        { promptTokens: 17, completionTokens: 4, totalTokens: 21 },
      ]);
      // None spent: none said.
      stub.reply(httpError(400, 'bad request', 'invalid_request_error'));
      expect((await failureOf(qa.execute({ question: 'q' }))).details).not.toHaveProperty('usage');
    }));

  it('leaves usage out when no answer reported any', () =>
    withSession(async (session, stub) => {
      stub.usage = null;
      const result = await (
        await session.module('qa', { type: 'Predict', signature: SIGNATURE })
      ).execute({ question: 'q' });
      expect(result).not.toHaveProperty('usage');
      expect(result.model).toBe('gpt-4o-mini');
    }));

  it("keeps each execution's usage its own while executions of other modules run at the same time", () =>
    withSession(async (session, stub) => {
      const left = await session.module('left', { type: 'Predict', signature: SIGNATURE });
      const right = await session.module('right', { type: 'ChainOfThought', signature: SIGNATURE });
      // Each answer's usage says which module asked; both are held until both were asked.
      stub.hold();
      stub.fallback = (request) => {
        const asked = JSON.stringify(request.body.messages);
        if (asked.includes('left')) return text('Answer: ok', usage(100, 1));
        return text('Reasoning: r\nAnswer: ok', usage(1, 100));
      };
      const runs = [left.execute({ question: 'left' }), right.execute({ question: 'right' })];
      setTimeout(() => stub.release(), 50);
      const [l, r] = await Promise.all(runs);
      expect(l?.usage).toEqual({ promptTokens: 100, completionTokens: 1, totalTokens: 101 });
      expect(r?.usage).toEqual({ promptTokens: 1, completionTokens: 100, totalTokens: 101 });
    }));

  // A module's generators are reused execution after execution, each with the counter it keeps: counted afresh.
  it("counts each execution's own usage, not what the module's earlier executions used", () =>
    withSession(async (session, stub) => {
      const qa = await session.module('qa', { type: 'Predict', signature: SIGNATURE, maxRetries: 0 });
      stub.fallback = (request) =>
        JSON.stringify(request.body.messages).includes('first')
          ? text('Answer: ok', usage(10, 1))
          : text('Answer: ok', usage(20, 2));
      const first = await qa.execute({ question: 'first' });
      const second = await qa.execute({ question: 'second' });
      expect(first.usage).toEqual({ promptTokens: 10, completionTokens: 1, totalTokens: 11 });
      expect(second.usage).toEqual({ promptTokens: 20, completionTokens: 2, totalTokens: 22 });
      // Direct forwards of one module at once take a generator each, and each its own count.
      const module = new Predict(SIGNATURE, { llm: stubbed.llm(), maxRetries: 0 });
      const [a, b] = await Promise.all([module.forward({ question: 'first' }), module.forward({ question: 'x' })]);
      expect([a.usage?.totalTokens, b.usage?.totalTokens]).toEqual([11, 22]);
      // Found by mutation: an execution whose answer reported no usage said zero tokens after one that did.
      stub.fallback = () => text('Answer: ok', null);
      expect(await qa.execute({ question: 'third' })).not.toHaveProperty('usage');
    }));

  it('reports what the offline echo reports: its name, or the model the module names, and no tokens', () =>
    withSession(async (session) => {
      const echoed = await (
        await session.module('qa', { type: 'Predict', signature: SIGNATURE })
      ).execute({ question: 'q' });
      expect(echoed.model).toBe('tether-echo');
      expect(echoed.usage).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });
      const named = await (
        await session.module('named', { type: 'Predict', signature: SIGNATURE, model: 'my-model' })
      ).execute({ question: 'q' });
      expect(named.model).toBe('my-model');
    }, createEchoModel()));
});
