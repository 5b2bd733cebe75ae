import { describe, expect, it } from 'vitest';
import {
  ExecutionAbortedError,
  ProviderError,
  Runtime,
  createLanguageModel,
  type ModuleHandle,
  type Session,
} from '../src/index.js';
import { OpenAIStub, httpError, text } from './support/openai-stub.js';
import { waitFor } from './support/wait-for.js';

/**
 * Runs `test` in session `sessionId` of a runtime of its own whose LLM is a fresh OpenAI stub (its counters and
 * fallback are the test's alone), and stops both afterwards.
 */
async function withProvider(
  sessionId: string,
  test: (session: Session, stub: OpenAIStub) => Promise<void>,
): Promise<void> {
  const stub = await OpenAIStub.start();
  const llmRuntime = await Runtime.start({
    llm: createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' }),
  });
  try {
    await test(await llmRuntime.session(sessionId), stub);
  } finally {
    await llmRuntime.stop();
    await stub.close();
  }
}

/** Runs `test` with a Predict module `qa` on the OpenAI stub, which answers only after 300 ms. */
function withSlowProvider(test: (qa: ModuleHandle, stub: OpenAIStub) => Promise<void>): Promise<void> {
  return withProvider('slow', async (s, stub) => {
    stub.delayMs = 300;
    await test(
      await s.module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 }),
      stub,
    );
  });
}

describe('module process on a provider', () => {
  it('switches the module type for executions that start after the switch only', () =>
    withProvider('switch', async (s, stub) => {
      stub.delayMs = 50;
      stub.fallback = () => text('Reasoning: because\nAnswer: ok');
      await s.defineVariable('reasoning_module', 'module', 'ChainOfThought');
      const qa = await s.module('qa', {
        typeVariable: 'reasoning_module',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      let switched: Promise<unknown> | undefined;
      // Mid-stream: the switch lands while the first execution's request is in flight and two more are queued.
      qa.on('module.synced', () => (switched ??= s.setVariable('reasoning_module', 'Predict')));
      const results = await Promise.all(['a', 'b', 'c'].map((question) => qa.execute({ question })));
      await switched;
      expect(results.map((r) => r.moduleType)).toEqual(['ChainOfThought', 'Predict', 'Predict']);
      expect(results.map((r) => r.provenance.reasoning_module)).toEqual([1, 2, 2]);
      expect(results.every((r) => r.moduleId === 'qa')).toBe(true);
    }));

  it('emits a failed execution as an event and returns to idle', () =>
    withProvider('failing', async (s, stub) => {
      const qa = await s.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      const failed: string[] = [];
      qa.on('module.failed', (event) => failed.push(event.error.code));
      stub.reply(httpError(500, 'upstream exploded'), text('Answer: fine'));
      await expect(qa.execute({ question: 'one' })).rejects.toBeInstanceOf(ProviderError);
      expect(failed).toEqual(['provider_error']);
      expect(await qa.describe()).toMatchObject({ state: 'idle', failed: 1 });
      expect((await qa.execute({ question: 'two' })).output.answer).toBe('fine');
    }));

  it('emits streamed deltas as events that add up to the output', () =>
    withProvider('stream', async (s, stub) => {
      const qa = await s.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      const deltas: string[] = [];
      qa.on('module.delta', (event) => {
        expect(event.field).toBe('answer');
        deltas.push(event.delta);
      });
      stub.reply(text('Answer: The sky is blue because air scatters short wavelengths.'));
      const result = await qa.execute({ question: 'why is the sky blue?' });
      expect(stub.chatRequests[0]?.body.stream).toBe(true);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(result.output.answer);
    }));

  it('cancels a running execution and a queued one with their AbortSignals', () =>
    withSlowProvider(async (qa, stub) => {
      const running = new AbortController();
      const queued = new AbortController();
      const first = expect(qa.execute({ question: 'slow' }, { signal: running.signal })).rejects.toBeInstanceOf(
        ExecutionAbortedError,
      );
      const second = expect(qa.execute({ question: 'queued' }, { signal: queued.signal })).rejects.toMatchObject({
        code: 'execution_aborted',
      });
      const third = qa.execute({ question: 'kept' });
      queued.abort();
      // Cancelled once its request is at the provider: 'executing' alone can come before Ax has sent it.
      await waitFor(() => stub.chatRequests.length === 1, { message: 'the running request at the provider' });
      running.abort();
      await first;
      // The cancel reached the wire: the provider saw its client hang up.
      await waitFor(() => stub.abandoned === 1, { message: 'the running request aborted' });
      await second;
      stub.delayMs = 0;
      expect((await third).output.answer).toBeDefined();
      const sent = stub.chatRequests.map((r) => JSON.stringify(r.body));
      expect(sent.some((body) => body.includes('kept'))).toBe(true);
      expect(sent.some((body) => body.includes('queued'))).toBe(false);
    }));

  it('names the execution in hand to onState listeners and in describe, the next one once the first is cancelled', () =>
    withSlowProvider(async (qa, stub) => {
      const heard: [string, string | undefined][] = [];
      qa.onState((state, executionId) => heard.push([state, executionId]));
      const running = new AbortController();
      const first = qa.execute({ question: 'slow' }, { signal: running.signal }).catch((error: unknown) => error);
      const second = qa.execute({ question: 'next' });
      await waitFor(() => stub.chatRequests.length === 1, { message: 'the first request at the provider' });
      const busy = await qa.describe();
      expect(busy).toMatchObject({ state: 'executing', executionId: expect.any(String), queued: 1 });
      running.abort();
      const aborted = (await first) as ExecutionAbortedError;
      expect(aborted.details).toMatchObject({ executionId: busy.executionId });
      stub.delayMs = 0;
      const { executionId: next } = await second;
      await waitFor(() => heard.at(-1)?.[0] === 'idle', { message: 'back to idle' });
      expect(heard).toEqual([
        ['idle', undefined],
        ['syncing', busy.executionId],
        ['executing', busy.executionId],
        ['syncing', next],
        ['executing', next],
        ['idle', undefined],
      ]);
      expect(await qa.describe()).not.toHaveProperty('executionId');
    }));

  it('aborts the provider request in flight when the module process stops mid-execution', () =>
    withSlowProvider(async (qa, stub) => {
      const outcome = qa.execute({ question: 'slow' }).then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      );
      await waitFor(() => stub.chatRequests.length === 1, { message: 'the request sent' });
      await qa.stop();
      expect(await outcome).toBe('process_exited');
      await waitFor(() => stub.abandoned === 1, { message: 'the request aborted' });
    }));

  it('asks for the samples its spec binds to a variable, per execution, and refuses a count out of range', () =>
    withProvider('votes', async (s, stub) => {
      await s.defineVariable('vote_samples', 'integer', 33);
      const spec = {
        type: 'MultiChainComparison',
        signature: 'question:string -> answer:string',
        samples: 5,
        maxRetries: 0,
        bindings: { samples: 'vote_samples' },
      };
      await expect(s.module('vote', spec)).rejects.toThrow(
        "module setting 'samples' must be an integer from 1 to 32, got 33",
      );
      expect(await s.modules()).toEqual([]);
      await s.setVariable('vote_samples', 2);
      const vote = await s.module('vote', spec);
      expect((await vote.execute({ question: 'one' })).provenance).toEqual({ vote_samples: 2 });
      await s.setVariable('vote_samples', 6);
      await vote.execute({ question: 'two' });
      const failures: string[] = [];
      vote.on('module.syncFailed', (event) => failures.push(event.error.code));
      await s.setVariable('vote_samples', 0);
      await vote.execute({ question: 'three' });
      expect(failures).toEqual(['validation_failed']);
      // Each request asks for the count bound when its execution synced; the refused 0 is never sent.
      expect(stub.chatRequests.map((request) => request.body.n)).toEqual([2, 6, 6]);
    }));
});
