/**
 * Found by a review: Azure OpenAI (`azure-openai`) built without a url was refused naming `provider` and asking for
 * `resourceName`, a setting createLanguageModel refuses as unknown; built with the resource endpoint the Azure portal
 * shows (`https://<resource>.openai.azure.com/`), it was accepted and every request went to `/chat/completions`, with
 * no deployment and no api-version, where Azure answers 404. The url now names a deployment (with its api-version)
 * or the v1 API (with the model, its deployment), or the model is refused when it is built. Requests go to a local
 * server only.
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

  // Found in review: built without a model, the v1 API was accepted, and every execution sent Ax's default model
  // name (gpt-5-mini) as the deployment, one nobody named, where Azure answers 404 (DeploymentNotFound).
  it('refuses the v1 API without a model when the model is built, naming the model (TETHER_AI_MODEL)', () => {
    const inCode = validationErrorOf(() =>
      createLanguageModel({ provider: 'azure-openai', url: `${RESOURCE}/openai/v1`, key: 'k' }),
    );
    expect(inCode).toMatchObject({ code: 'validation_failed', variable: 'model', details: { field: 'model' } });
    expect(inCode.message).toMatch(/^model is not set; provider 'azure-openai' at the v1 API's url .* deployment/);
    const fromEnv = validationErrorOf(() =>
      languageModelFromEnv({ TETHER_AI: 'azure', TETHER_AI_KEY: 'k', TETHER_AI_URL: `${RESOURCE}/openai/v1/` }),
    );
    expect(fromEnv).toMatchObject({ variable: 'TETHER_AI_MODEL', details: { field: 'TETHER_AI_MODEL' } });
    expect(fromEnv.message).toMatch(/^TETHER_AI_MODEL is not set; provider 'azure-openai'/);
  });

  it.each([
    [
      'a deployment',
      '/openai/deployments/dep?api-version=2024-10-21',
      undefined,
      '/openai/deployments/dep/chat/completions?api-version=2024-10-21',
    ],
    ['the v1 API', '/openai/v1', 'dep', '/openai/v1/chat/completions'],
  ])('sends to %s, with the key in its api-key header', async (_what, path, model, sentTo) => {
    const server = await scope.startServer();
    server.answer = openAIChatText('Answer: local');
    const outside = guardFetch();
    const llm = createLanguageModel({
      provider: 'azure-openai',
      url: `${server.origin}${path}`,
      key: 'azure-key',
      ...(model === undefined ? {} : { model }),
    });
    const runtime = await scope.startRuntime({ llm });
    const qa = await (
      await runtime.session('azure')
    ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
    expect(await qa.execute({ question: 'q' })).toMatchObject({ output: { answer: 'local' } });
    expect(outside).toEqual([]);
    expect(server.requests.map((request) => request.path)).toEqual([sentTo]);
    expect(server.requests[0]!.headers['api-key']).toBe('azure-key');
    // On the v1 API the model is the deployment: the one named, not Ax's default.
    if (model !== undefined) expect(server.requests[0]!.body.model).toBe(model);
  });
});
