import { describe, expect, it } from 'vitest';
import { createLanguageModel, Runtime, type ModuleApi } from '../../src/index.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const { stub } = useOpenAIStub();

/** A streamed chunk of an OpenAI chat answer: the start of one the provider then drops. */
const firstChunk = `data: ${JSON.stringify({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { role: 'assistant', content: 'Answer: par' }, finish_reason: null }],
})}\n\n`;

/** Runs `use` on a module `qa` of a fresh runtime that talks to the stub, then stops the runtime. */
async function withModule(maxRetries: number, use: (qa: ModuleApi) => Promise<void>): Promise<void> {
  const llm = createLanguageModel({ provider: 'openai', url: stub().url, key: 'k', model: 'm' });
  const runtime = await Runtime.start({ llm });
  try {
    const session = await runtime.session('drops');
    await use(
      await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries }),
    );
  } finally {
    await runtime.stop();
  }
}

/**
 * What an operator meets when the provider's connection drops: a typed failure saying so, as many requests as the
 * module's `maxRetries` allow, and a module that answers the next execution.
 */
describe('a provider connection that drops', () => {
  it('before the answer is provider_unavailable (unreachable), sent again up to maxRetries, the module usable', () =>
    withModule(1, async (qa) => {
      const failures: string[] = [];
      qa.on('module.failed', (event) => failures.push(event.error.code));
      stub().reply({ kind: 'reset' }, { kind: 'reset' });
      await expect(qa.execute({ question: 'q' })).rejects.toMatchObject({
        code: 'provider_unavailable',
        details: { provider: 'openai', reason: 'unreachable', moduleId: 'qa', providerMessage: /ECONNRESET/ },
      });
      expect(stub().chatRequests).toHaveLength(2);
      expect(failures).toEqual(['provider_unavailable']);
      await expect(qa.execute({ question: 'again' })).resolves.toMatchObject({ output: { answer: 'stub answer' } });
    }));

  it('mid-stream, for a delta listener, is provider_unavailable (unreachable), never the half answer', () =>
    withModule(0, async (qa) => {
      // A listener is what has the provider asked to stream.
      qa.on('module.delta', () => {});
      stub().reply({ kind: 'reset', partial: firstChunk });
      await expect(qa.execute({ question: 'q' })).rejects.toMatchObject({
        code: 'provider_unavailable',
        details: { reason: 'unreachable', moduleId: 'qa' },
      });
      expect(stub().chatRequests).toHaveLength(1);
      expect(stub().chatRequests[0]!.body.stream).toBe(true);
      await expect(qa.execute({ question: 'again' })).resolves.toMatchObject({ output: { answer: 'stub answer' } });
    }));
});

describe("an execution's timeoutMs while the provider has not answered", () => {
  it('is call_timeout (executing), hangs up the provider request, and the next execution runs', () =>
    withModule(0, async (qa) => {
      stub().hold();
      const abandoned = stub().abandoned;
      await expect(qa.execute({ question: 'q' }, { timeoutMs: 300 })).rejects.toMatchObject({
        code: 'call_timeout',
        details: { timeoutMs: 300, stage: 'executing', moduleId: 'qa' },
      });
      await waitFor(() => stub().abandoned === abandoned + 1, { message: 'the provider request dropped' });
      stub().release();
      stub().reply(text('Answer: next'));
      await expect(qa.execute({ question: 'again' })).resolves.toMatchObject({ output: { answer: 'next' } });
      expect(stub().chatRequests).toHaveLength(2);
    }));
});
