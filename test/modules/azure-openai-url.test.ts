/**
 * Found by a review: Azure OpenAI (`azure-openai`) built without a url was refused naming `provider` and asking for
 * `resourceName`, a setting createLanguageModel refuses as unknown; built with the resource endpoint the Azure portal
 * shows (`https://<resource>.openai.azure.com/`), it was accepted and every request went to `/chat/completions`, with
 * no deployment and no api-version, where Azure answers 404. The url now names a deployment (with its api-version)
 * or the v1 API, or the model is refused when it is built. Requests go to a local server only.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel, languageModelFromEnv } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { guardFetch, openAIChatText } from '../support/provider-servers.js';
import { validationErrorOf } from '../support/validation-error.js';

const scope = useProviderScope();

const RESOURCE = 'https://tether-test.openai.azure.com';

describe('azure-openai url', () => {
  it('is required, and its absence names the url (TETHER_AI_URL), not a setting Tether does not take', () => {
    const inCode = validationErrorOf(() =>
      createLanguageModel({ provider: 'azure-openai', key: 'k', model: 'gpt-4o' }),
    );
    expect(inCode).toMatchObject({ code: 'validation_failed', variable: 'url', details: { field: 'url' } });
    expect(inCode.message).toContain('/openai/deployments/<deployment>?api-version=<version>');
    expect(inCode.message).not.toMatch(/resourceName/);
    const fromEnv = validationErrorOf(() => languageModelFromEnv({ TETHER_AI: 'azure', TETHER_AI_KEY: 'k' }));
    expect(fromEnv).toMatchObject({ variable: 'TETHER_AI_URL' });
  });

  it.each([
    ['the resource endpoint the portal shows', `${RESOURCE}/`, "has the path '/'"],
    ['the target URI the portal shows', `${RESOURCE}/openai/deployments/gpt-4o/chat/completions?api-version=1`, 'path'],
    ['a deployment without its api-version', `${RESOURCE}/openai/deployments/gpt-4o`, 'without its api-version'],
  ])('refuses %s when the model is built, naming the url', (_what, url, said) => {
    const error = validationErrorOf(() => createLanguageModel({ provider: 'azure-openai', url, key: 'k' }));
    expect(error).toMatchObject({ code: 'validation_failed', variable: 'url' });
    expect(error.message).toContain(said);
  });

  it.each([
    [
      'a deployment',
      '/openai/deployments/dep?api-version=2024-10-21',
      '/openai/deployments/dep/chat/completions?api-version=2024-10-21',
    ],
    ['the v1 API', '/openai/v1', '/openai/v1/chat/completions'],
  ])('sends to %s, with the key in its api-key header', async (_what, path, sentTo) => {
    const server = await scope.startServer();
    server.answer = openAIChatText('Answer: local');
    const outside = guardFetch();
    const llm = createLanguageModel({ provider: 'azure-openai', url: `${server.origin}${path}`, key: 'azure-key' });
    const runtime = await scope.startRuntime({ llm });
    const qa = await (
      await runtime.session('azure')
    ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
    expect(await qa.execute({ question: 'q' })).toMatchObject({ output: { answer: 'local' } });
    expect(outside).toEqual([]);
    expect(server.requests.map((request) => request.path)).toEqual([sentTo]);
    expect(server.requests[0]!.headers['api-key']).toBe('azure-key');
  });
});
