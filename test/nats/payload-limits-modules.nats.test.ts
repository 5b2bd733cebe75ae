import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError, createLanguageModel, type ModuleEvent } from '../../src/index.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { usePayloadLimitFixture } from '../support/payload-limit-fixture.js';

const { fx, nc, maxPayload } = usePayloadLimitFixture();

describe('payload limits', () => {
  it('refuses a module spec that fits in the request but leaves a message of the modules bucket no room', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('spec-size');
    // The request (some 200 bytes more than the instructions, its headers included) fits under max_payload; stored,
    // it would leave no room for the bucket's headers within a kilobyte (and none for a reply describing the module).
    // It got internal_error once the server refused the write.
    const spec = { type: 'Predict', signature: 'question -> answer', instructions: 'i'.repeat(maxPayload() - 240) };
    const refusal = await session.module('big', spec).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      details: { field: 'spec', constraint: 'maxBytes', moduleId: 'big' },
    });
    expect((refusal as Error).message).toMatch(/^module 'big' spec is \d+ bytes as stored, over the \d+ bytes/);
    // Nothing was claimed: the id is free, and a spec of a fitting size is created under it.
    expect(await session.modules()).toEqual([]);
    await session.module('big', { ...spec, instructions: 'short' });
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['big']);
  });

  it('answers an execution whose output is too large with payload_too_large, and tells subscribers it failed', async () => {
    const stub = await OpenAIStub.start();
    try {
      const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
      await fx().runtime(fx().buckets(), { llm });
      const session = await (await fx().client()).session('mod');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      const events: ModuleEvent[] = [];
      const subscription = nc().subscribe('tether.v1.events.mod.module.qa', {
        callback: (_e, msg) => events.push(msg.json<ModuleEvent>()),
      });
      await nc().flush();
      stub.fallback = () => text(`Answer: ${'y'.repeat(maxPayload())}`);

      const refusal = await qa.execute({ question: 'everything?' }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(PayloadTooLargeError);
      expect((refusal as Error).message).toMatch(/^reply to module\.execute of session 'mod' is \d+ bytes/);
      await waitFor(() => events.some((event) => event.type === 'module.failed'), { message: 'module.failed' });
      expect(events.filter((event) => event.type === 'module.result')).toEqual([]);
      type Failed = Extract<ModuleEvent, { type: 'module.failed' }>;
      const failed = events.find((event) => event.type === 'module.failed') as Failed;
      expect(failed).toMatchObject({
        sessionId: 'mod',
        moduleId: 'qa',
        error: { code: 'payload_too_large', details: { limit: maxPayload() } },
      });
      // A subscriber is told which execution's result it was, and that it ran: only its output could not be sent.
      expect(failed.error.message).toMatch(
        new RegExp(
          `^result of execution '${failed.executionId}' of module 'qa' is \\d+ bytes, over the NATS max_payload of ` +
            `${maxPayload()} bytes; the execution ran, but its output is too large to be published over NATS$`,
        ),
      );

      stub.fallback = () => text('Answer: short');
      await expect(qa.execute({ question: 'and now?' })).resolves.toMatchObject({ output: { answer: 'short' } });
      subscription.unsubscribe();
    } finally {
      await stub.close();
    }
  });
});
