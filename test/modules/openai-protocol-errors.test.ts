import { describe, expect, it } from 'vitest';
import { ProviderError, ValidationError, errorFromJSON } from '../../src/errors.js';
import { type LanguageModel, VariableAwarePredict } from '../../src/modules/index.js';
import type { FakeSession } from '../support/fake-session.js';
import { type OpenAIStub, httpError } from '../support/openai-stub.js';
import { SIGNATURE, boundPredictOn, useWire } from '../support/openai-wire.js';

let stub: OpenAIStub;
let llm: LanguageModel;
let session: FakeSession;

useWire((wire) => ({ stub, llm, session } = wire));

const boundPredict = (): Promise<VariableAwarePredict> => boundPredictOn(session, llm);

describe('OpenAI protocol (real Ax provider against the local stub)', () => {
  it('surfaces HTTP 500 as a ProviderError with the provider message, in one request', async () => {
    const module = await boundPredict();
    stub.reply(httpError(500, 'The server had an error while processing your request.'));
    const error = await module.forward({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_error', status: 500, provider: 'openai' });
    expect((error as ProviderError).message).toContain('The server had an error while processing your request.');
    expect(stub.chatRequests).toHaveLength(1);
    expect(errorFromJSON((error as ProviderError).toJSON())).toBeInstanceOf(ProviderError);
  });

  it('retries a 500 only as often as maxRetries says', async () => {
    const module = await boundPredict();
    module.maxRetries = 1;
    stub.reply(httpError(500, 'overloaded'), httpError(500, 'still overloaded'));
    await expect(module.forward({ question: 'q' })).rejects.toThrow(/still overloaded/);
    expect(stub.chatRequests).toHaveLength(2);
  });

  it('surfaces HTTP 401 as a ProviderError with the provider message, without retries', async () => {
    // Ax's default program retries (3) stay on: an authentication failure must not be retried at all.
    const module = new VariableAwarePredict(SIGNATURE, { session, llm });
    stub.reply(httpError(401, 'Incorrect API key provided: sk-test.'));
    const error = await module.forward({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 401 });
    expect((error as ProviderError).message).toContain('Incorrect API key provided');
    expect(stub.chatRequests).toHaveLength(1);
  });

  it('surfaces HTTP 403 with its own status, not as 401 (Ax folds both into one error without the status)', async () => {
    const module = new VariableAwarePredict(SIGNATURE, { session, llm });
    stub.reply(httpError(403, 'Project does not have access to model gpt-4.1-mini.'));
    const forbidden = await module.forward({ question: 'q' }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ProviderError);
    expect(forbidden).toMatchObject({ status: 403 });
    expect((forbidden as ProviderError).message).toContain('does not have access');
    // The same request refused with 401 next: each refusal is reported with the status that came with it.
    stub.reply(httpError(401, 'Incorrect API key provided: sk-test.'));
    await expect(module.forward({ question: 'q' })).rejects.toMatchObject({ status: 401 });
    expect(stub.chatRequests).toHaveLength(2);
  });

  it('answers options that are not an object with a rejection, not a throw', async () => {
    const module = await boundPredict();
    const outcome = module.forward({ question: 'q' }, null as never);
    // A typed refusal naming the options (it was a bare TypeError before the forward options were checked).
    await expect(outcome).rejects.toBeInstanceOf(ValidationError);
    await expect(outcome).rejects.toThrow('forward options must be an object, got null');
  });
});
