import { describe, expect, it } from 'vitest';
import { ExecutionAbortedError, Runtime, createLanguageModel } from '../../src/index.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

describe('execution abort cause', () => {
  it("keeps the signal's reason as the cause of a running or queued execution's execution_aborted", async () => {
    const stub = await OpenAIStub.start();
    const runtime = await Runtime.start({
      llm: createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' }),
    });
    try {
      const session = await runtime.session('abort-cause');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      stub.delayMs = 5_000;
      stub.fallback = () => text('Answer: late');
      const running = new AbortController();
      const queued = new AbortController();
      const first = qa.execute({ question: 'running' }, { signal: running.signal }).catch((error: unknown) => error);
      const second = qa.execute({ question: 'queued' }, { signal: queued.signal }).catch((error: unknown) => error);
      await waitFor(() => stub.chatRequests.length === 1, { message: 'the running request at the provider' });
      // The reason a caller gives is what it matches on later, as it can for a signal aborted before the call, and
      // as a remote handle's error carries it.
      const stopped = new Error('user pressed stop');
      const superseded = { superseded: true };
      queued.abort(superseded);
      running.abort(stopped);
      const [fromRunning, fromQueued] = await Promise.all([first, second]);
      expect(fromRunning).toBeInstanceOf(ExecutionAbortedError);
      expect(fromRunning).toMatchObject({ details: { reason: 'Error: user pressed stop' } });
      expect((fromRunning as ExecutionAbortedError).cause).toBe(stopped);
      expect(fromQueued).toBeInstanceOf(ExecutionAbortedError);
      expect((fromQueued as ExecutionAbortedError).cause).toBe(superseded);
      const before = await qa.execute({ question: 'x' }, { signal: AbortSignal.abort(stopped) }).catch((e) => e);
      expect((before as ExecutionAbortedError).cause).toBe(stopped);
    } finally {
      await runtime.stop();
      await stub.close();
    }
  });
});
