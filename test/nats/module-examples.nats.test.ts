import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();

const SPEC = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

describe('module examples over NATS', () => {
  it('are taken in a remote client’s spec, sent to the provider, and refused when they name no field', async () => {
    stubbed.stub().fallback = () => text('Answer: ok');
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const session = await (await fx().client()).session('shots');
    const qa = await session.module('qa', { ...SPEC, examples: [{ question: 'Capital of France?', answer: 'Paris' }] });
    expect((await qa.execute({ question: 'Capital of Peru?' })).output).toEqual({ answer: 'ok' });
    expect(JSON.stringify(stubbed.stub().chatRequests[0]?.body.messages)).toContain('Capital of France?');

    const error = await session.module('bad', { ...SPEC, examples: [{ query: 'q' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ details: { field: 'examples', index: 0, exampleField: 'query' } });
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['qa']);
  });
});
