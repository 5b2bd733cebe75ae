import { describe, expect, it } from 'vitest';
import { type LanguageModel, VariableAwarePredict, Refine } from '../../src/modules/index.js';
import { waitFor } from '../support/wait-for.js';
import type { FakeSession } from '../support/fake-session.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { SIGNATURE, boundPredictOn, useWire } from '../support/openai-wire.js';

let stub: OpenAIStub;
let llm: LanguageModel;
let session: FakeSession;

useWire((wire) => ({ stub, llm, session } = wire));

const boundPredict = (): Promise<VariableAwarePredict> => boundPredictOn(session, llm);

describe('OpenAI protocol (real Ax provider against the local stub)', () => {
  it('cancels a request in flight: the provider sees the client hang up, and the next forward runs', async () => {
    const module = await boundPredict();
    stub.hold();
    const controller = new AbortController();
    const cancelled = module.forward({ question: 'slow' }, { abortSignal: controller.signal });
    // Aborted once the provider has the request (not after a guess at how long sending it takes).
    await waitFor(() => stub.chatRequests.length === 1, { message: 'the request at the provider' });
    controller.abort(new Error('caller gave up'));
    await expect(cancelled).rejects.toThrow(/caller gave up/);
    await waitFor(() => stub.abandoned === 1, { message: 'the provider saw the client hang up' });
    stub.release();
    stub.reply(text('Answer: fine'));
    expect((await module.forward({ question: 'again' })).output).toEqual({ answer: 'fine' });
  });

  it('cancels every round of a Refine, not only the one in flight', async () => {
    stub.hold();
    const refine = new Refine(SIGNATURE, { llm, maxRetries: 0, rounds: 3, reward: () => 0 });
    const controller = new AbortController();
    const cancelled = refine.forward({ question: 'q' }, { abortSignal: controller.signal });
    // Aborted while the first round is at the provider, which holds it: the later rounds are still to come.
    await waitFor(() => stub.chatRequests.length === 1, { message: 'the first round at the provider' });
    controller.abort(new Error('caller gave up'));
    await expect(cancelled).rejects.toThrow(/caller gave up/);
    await waitFor(() => stub.abandoned === 1, { message: 'the provider saw the client hang up' });
    // Had the refinement gone on, a second round would be sent right after the first failed: time for it to show.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stub.chatRequests).toHaveLength(1);
  });

  it('cancels a request with an AbortSignal', async () => {
    const module = await boundPredict();
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(module.forward({ question: 'q' }, { abortSignal: controller.signal })).rejects.toThrow(
      /caller gave up/,
    );
  });
});
