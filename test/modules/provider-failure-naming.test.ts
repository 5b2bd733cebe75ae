import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InternalError, ProviderError, Runtime, type ModuleHandle } from '../../src/index.js';
import { errorFromJSON, errorToJSON } from '../../src/error-json.js';
import { useOpenAIStub, httpError, text } from '../support/openai-stub.js';

const { stub, llm } = useOpenAIStub();

describe('a module execution the provider fails', () => {
  let runtime: Runtime;
  let qa: ModuleHandle;

  beforeEach(async () => {
    runtime = await Runtime.start({
      llm: llm(),
    });
    const session = await runtime.session('naming');
    qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
  });
  afterEach(async () => {
    await runtime.stop();
  });

  it('names the module a provider refused, in the message and the details, also once over the wire', async () => {
    stub().reply(httpError(429, 'Rate limit reached'));
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toBe(
      "provider 'openai' answered HTTP 429 to module 'qa': Rate limit reached",
    );
    expect((error as ProviderError).details).toMatchObject({
      provider: 'openai',
      status: 429,
      providerMessage: 'Rate limit reached',
      moduleId: 'qa',
    });
    expect(stub().chatRequests).toHaveLength(1);
    // How a client on another node rebuilds it: the same message, the module still named.
    expect(errorFromJSON(errorToJSON(error)).message).toBe((error as Error).message);
  });

  it('names the module whose program failed on an answer without its output field', async () => {
    stub().reply(text(''));
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).message).toMatch(/^module 'qa': LLM program failed: /);
    expect((error as InternalError).details).toMatchObject({ provider: 'openai', moduleId: 'qa' });
  });
});
