/**
 * `createLanguageModel({ provider, url })` (and `TETHER_AI_URL`): the endpoint a provider is given. Tether accepts
 * a `url` for every Ax provider (`ProviderConfig.url`: "optional for the others (their public endpoint)") and
 * checks it, but for `anthropic`, `google-gemini` and `openai-responses` Ax's provider classes never read it: every
 * execution goes to the provider's public host, the API key in its headers, and never to the configured endpoint
 * (a proxy, a gateway, a local mock). No request here reaches the internet: the global fetch refuses any host but
 * 127.0.0.1 at once and records it.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel, languageModelFromEnv, type LanguageModel } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { guardFetch, sendJson } from '../support/provider-servers.js';

const scope = useProviderScope();

/** Runs one Predict execution on `llm`, answering its outcome: the output, or the error's code. */
async function executeOnce(llm: LanguageModel): Promise<unknown> {
  const runtime = await scope.startRuntime({ llm });
  const session = await runtime.session('provider-url');
  const qa = await session.module('qa', {
    type: 'Predict',
    signature: 'question:string -> answer:string',
    maxRetries: 0,
  });
  return qa.execute({ question: 'Where do you go?' }).then(
    (result) => result.output,
    (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
  );
}

describe('a provider given a url sends its requests there', () => {
  it('anthropic: the messages request goes to the configured url, with the key and the model', async () => {
    const server = await scope.startServer();
    const outside = guardFetch();
    const llm = createLanguageModel({
      provider: 'anthropic',
      url: `${server.origin}/v1`,
      key: 'sk-ant-local',
      model: 'claude-local',
    });
    const outcome = await executeOnce(llm);
    expect(outside).toEqual([]); // nothing went past the configured endpoint (it went to https://api.anthropic.com)
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/messages']);
    expect(server.requests[0]!.headers['x-api-key']).toBe('sk-ant-local');
    expect(server.requests[0]!.body.model).toBe('claude-local');
    expect(outcome).toEqual({ answer: 'local' });
  });

  it('google-gemini: generateContent goes to the configured url, with the key and the model', async () => {
    const server = await scope.startServer();
    const outside = guardFetch();
    const llm = createLanguageModel({
      provider: 'google-gemini',
      url: `${server.origin}/v1beta`,
      key: 'gem-local',
      model: 'gemini-local',
    });
    const outcome = await executeOnce(llm);
    expect(outside).toEqual([]); // it went to https://generativelanguage.googleapis.com
    expect(server.requests.map((r) => r.path)).toEqual(['/v1beta/models/gemini-local:generateContent']);
    expect(server.requests[0]!.headers['x-goog-api-key']).toBe('gem-local');
    expect(outcome).toEqual({ answer: 'local' });
  });

  it('google-gemini from the environment: TETHER_AI_URL is where requests go', async () => {
    const server = await scope.startServer();
    const outside = guardFetch();
    const llm = languageModelFromEnv({
      TETHER_AI: 'gemini',
      TETHER_AI_URL: `${server.origin}/v1beta`,
      TETHER_AI_KEY: 'gem-local',
      TETHER_AI_MODEL: 'gemini-local',
    });
    await executeOnce(llm);
    expect(outside).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('openai-responses: the responses request goes to the configured url', async () => {
    const server = await scope.startServer();
    // Whatever it answers: where the request went is the point.
    server.answer = (_request, res) => sendJson(res, 500, { error: { message: 'local server' } });
    const outside = guardFetch();
    const llm = createLanguageModel({
      provider: 'openai-responses',
      url: `${server.origin}/v1`,
      key: 'sk-local',
      model: 'gpt-local',
    });
    await executeOnce(llm);
    expect(outside).toEqual([]); // it went to https://api.openai.com/v1/responses
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/responses']);
  });
});
