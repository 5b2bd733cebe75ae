/**
 * Found by a review: a `thinkingTokenBudget` other than `none`, on an OpenAI-protocol provider other than `openai`
 * (groq, ollama, …) with a model Ax's profile does not list as a thinking one, was accepted when the module was
 * created, and then every execution failed as `internal_error` (Ax: "Thinking is not verified for profile groq…"), as
 * if it were Tether's fault. It is the setting that the model cannot take: `validation_failed` naming it, before any
 * request. Requests go to a local server only.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { guardFetch, openAIChatText } from '../support/provider-servers.js';

const scope = useProviderScope();

/** A session of a runtime on `provider` with `model`, answered by the local server. */
async function sessionOn(provider: string, model: string) {
  const server = await scope.startServer();
  server.answer = openAIChatText('Answer: ok');
  guardFetch();
  const llm = createLanguageModel({ provider, url: `${server.origin}/v1`, key: 'k', model });
  const runtime = await scope.startRuntime({ llm });
  return runtime.session('thinking');
}

const signature = 'question:string -> answer:string';

describe('thinkingTokenBudget on a model that does not think', () => {
  it.each([
    ['groq', 'llama-3.3-70b-versatile'],
    ['ollama', 'llama3.1'],
  ])('%s %s: a module created with a level is refused, naming the setting', async (provider, model) => {
    const session = await sessionOn(provider, model);
    const created = session.module('qa', { type: 'Predict', signature, thinkingTokenBudget: 'low' });
    await expect(created).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'thinkingTokenBudget', provider, model },
    });
    await expect(created).rejects.toThrow(`thinkingTokenBudget 'low' cannot go to provider '${provider}'`);
    expect(scope.server.requests).toEqual([]);
  });

  it('a level a binding brings later fails the execution as validation_failed, sending nothing', async () => {
    const session = await sessionOn('groq', 'llama-3.3-70b-versatile');
    await session.defineVariable('thinking', 'string', 'none');
    const qa = await session.module('qa', {
      type: 'Predict',
      signature,
      maxRetries: 0,
      bindings: { thinkingTokenBudget: 'thinking' },
    });
    await session.setVariable('thinking', 'medium');
    await expect(qa.execute({ question: 'q' })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'thinkingTokenBudget', provider: 'groq', model: 'llama-3.3-70b-versatile' },
    });
    expect(scope.server.requests).toEqual([]);
  });

  it.each([
    ['groq', 'llama-3.3-70b-versatile', 'none'],
    ['deepseek', 'deepseek-v4-flash', 'low'],
    ['openai', 'gpt-4o-mini', 'low'],
  ])('%s %s with %s is taken and sent', async (provider, model, level) => {
    const session = await sessionOn(provider, model);
    const qa = await session.module('qa', { type: 'Predict', signature, thinkingTokenBudget: level as 'low' });
    expect(await qa.execute({ question: 'q' })).toMatchObject({ output: { answer: 'ok' } });
    expect(scope.server.requests).toHaveLength(1);
  });
});
