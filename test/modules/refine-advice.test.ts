import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime } from '../../src/index.js';
import { text, useOpenAIStub, type RecordedRequest } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const { stub, llm } = useOpenAIStub();

/** Refine's request for advice between rounds, told from the program's by Ax's instruction for it. */
const isAdvice = (request: RecordedRequest): boolean =>
  JSON.stringify(request.body.messages).includes('actionable advice');

/** A Refine module of 3 rounds whose reward is never met, its model and settings bound to the session's variables. */
async function refineModule() {
  const runtime = await Runtime.start({ llm: llm() });
  onTestFinished(() => runtime.stop());
  const session = await runtime.session('advice');
  await session.defineVariable('m', 'string', 'gpt-4.1');
  await session.defineVariable('t', 'float', 0.2);
  await session.defineVariable('mt', 'integer', 77);
  stub().fallback = (request) => (isAdvice(request) ? text('Summary: none\nAdvice: {}') : text('Answer: x'));
  return session.module('refine', {
    type: 'Refine',
    signature: 'question:string -> answer:string',
    rounds: 3,
    maxRetries: 0,
    reward: () => 0,
    bindings: { model: 'm', temperature: 't', maxTokens: 'mt' },
  });
}

describe("Refine's advice between rounds", () => {
  it("is asked with the execution's model and settings, as its rounds are", async () => {
    const refine = await refineModule();
    await refine.execute({ question: 'q' });
    const [program, advice] = [stub().chatRequests.find((r) => !isAdvice(r)), stub().chatRequests.find(isAdvice)];
    expect(program?.body).toMatchObject({ model: 'gpt-4.1', temperature: 0.2, max_completion_tokens: 77 });
    expect(advice?.body).toMatchObject({ model: 'gpt-4.1', temperature: 0.2, max_completion_tokens: 77 });
  });

  it('is stopped with the execution: a cancel drops its request', async () => {
    const refine = await refineModule();
    const controller = new AbortController();
    // The first round's answer holds what follows, so the advice is in flight when the caller gives up: holding
    // from the test instead raced the provider, which could answer the advice before the hold.
    stub().fallback = () => {
      stub().hold();
      return text('Answer: x');
    };
    const running = refine.execute({ question: 'q' }, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => stub().chatRequests.some(isAdvice), { message: 'the advice was asked' });
    controller.abort(new Error('caller gave up'));
    expect(await running).toMatchObject({ code: 'execution_aborted' });
    await waitFor(() => stub().abandoned === 1, { message: 'the provider saw the advice request dropped' });
  });
});
