import { describe, expect, it } from 'vitest';
import { ModelAnswerError, type ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { rawReply } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();

describe('an unusable model answer over NATS', () => {
  it('reaches the remote client, a plain requester and the events as model_answer_invalid with status 502', async () => {
    stubbed.stub().fallback = () => text('Score: plenty');
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const client = await fx().client();
    const session = await client.session('answers');
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> score:number',
      maxRetries: 0,
    });
    const failures: ModuleEvent[] = [];
    const subscription = nc().subscribe('tether.v1.events.answers.module.qa', {
      callback: (_e, msg) => {
        const event = msg.json<ModuleEvent>();
        if (event.type === 'module.failed') failures.push(event);
      },
    });
    await nc().flush();

    const error = await qa.execute({ question: 'how many?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelAnswerError);
    expect(error).toMatchObject({ reason: 'invalid', details: { moduleId: 'qa', provider: 'openai' } });
    expect((error as Error).message).toMatch(
      /for module 'qa' \(model '[^']+'\) could not be used: Field 'Score' has an invalid value/,
    );

    const raw = await rawReply(
      nc(),
      'tether.v1.session.answers.module.qa.execute',
      JSON.stringify({ inputs: { question: 'how many?' } }),
    );
    expect(raw.errorCode).toBe('502');
    expect(raw.body.error).toMatchObject({ code: 'model_answer_invalid', details: { reason: 'invalid' } });

    await waitFor(() => failures.length === 2, { message: 'both failures published' });
    expect(failures.map((event) => (event as { error: { code: string } }).error.code)).toEqual([
      'model_answer_invalid',
      'model_answer_invalid',
    ]);
    subscription.unsubscribe();
  });
});
