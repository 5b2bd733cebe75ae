/**
 * The API key never comes back out of a provider's answer: a proxy or gateway that echoes the request (its
 * `Authorization` header among it) in an error body would otherwise have the key quoted in the execution's error, its
 * message and `details.providerMessage`, which a remote client, the events subjects and `onError` all carry.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Runtime, createLanguageModel } from '../../src/index.js';
import { httpError, useOpenAIStub, type RecordedRequest, type StubReply } from '../support/openai-stub.js';

const { stub } = useOpenAIStub();

/** A key as a provider issues them: long enough to be cut at any point of a streamed body. */
const KEY = 'sk-proj-Z9x8W7v6U5t4S3r2Q1p0';

/** What the execution that met `reply` rejected with, as a user sees it (printed, and as the wire's JSON). */
async function failureOf(
  reply: (request: RecordedRequest) => StubReply,
  key = KEY,
): Promise<{ shown: string; error: any }> {
  stub().fallback = reply;
  const llm = createLanguageModel({ provider: 'openai', url: stub().url, key, model: 'gpt-4o-mini' });
  const runtime = await Runtime.start({ llm });
  try {
    const session = await runtime.session('keys');
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
    });
    const error = await qa.execute({ question: 'q' }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(stub().chatRequests.at(-1)?.headers.authorization).toBe(`Bearer ${key}`);
    return { shown: `${inspect(error, { depth: 8 })}\n${JSON.stringify(error)}`, error };
  } finally {
    await runtime.stop();
  }
}

describe('the API key in a provider answer', () => {
  it('is not quoted from a 401 that echoes the Authorization header', async () => {
    const { shown, error } = await failureOf((request) =>
      httpError(401, `Incorrect API key provided: ${String(request.headers.authorization)}`),
    );
    expect(error).toMatchObject({ code: 'provider_error', status: 401 });
    expect(shown).not.toContain(KEY);
    // The rest of what the provider said is kept.
    expect(error.details.providerMessage).toMatch(/^Incorrect API key provided: Bearer \S/);
  });

  it('is not quoted from a 5xx body that echoes the whole request', async () => {
    const { shown, error } = await failureOf((request) => ({
      kind: 'raw',
      status: 502,
      contentType: 'text/plain',
      body: `upstream failed for ${JSON.stringify(request.headers)}`,
    }));
    expect(error).toMatchObject({ code: 'provider_error', status: 502 });
    expect(shown).not.toContain(KEY);
  });

  it('is not quoted from an error object a gateway sends with HTTP 200', async () => {
    const { shown, error } = await failureOf(() => ({
      kind: 'raw',
      contentType: 'application/json',
      body: JSON.stringify({ error: { message: `key ${KEY} is over its quota` } }),
    }));
    expect(error).toMatchObject({ code: 'provider_unavailable' });
    expect(error.message).toContain('is over its quota');
    expect(shown).not.toContain(KEY);
  });

  // A keyless local server's placeholder key would be cut out of every word holding it.
  it('leaves a short placeholder key where it is, and the words holding it whole', async () => {
    const { error } = await failureOf(() => httpError(500, 'ollama failed: ask again later'), 'ollama');
    expect(error.details.providerMessage).toBe('ollama failed: ask again later');
  });
});
