import { beforeAll, describe, expect, it } from 'vitest';
import { CallTimeoutError, ExecutionAbortedError, type ModuleEvent } from '../../src/index.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { spec, useModuleEventsFixture } from '../support/module-events-fixture.js';

const { fx, stub: currentStub, llm } = useModuleEventsFixture();
let stub: OpenAIStub;

beforeAll(() => {
  stub = currentStub();
});

describe('module events', () => {
  it('cancels a running remote execution with its AbortSignal and reports it as failed', async () => {
    stub.fallback = () => text('Answer: slow');
    stub.delayMs = 400;
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('cancel');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const failed: ModuleEvent[] = [];
    const off = qa.on('module.failed', (event) => failed.push(event));
    const controller = new AbortController();
    const running = qa.execute({ question: 'never mind' }, { signal: controller.signal });
    const executing = new Promise<void>((resolve) => qa.onState((state) => state === 'executing' && resolve()));
    await executing;
    controller.abort('changed my mind');
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionAbortedError);
    // Worded as the embedded handle's: the caller's reason in the message and in the details.
    expect((error as ExecutionAbortedError).message).toMatch(/was aborted: changed my mind$/);
    expect((error as ExecutionAbortedError).details).toMatchObject({ reason: 'changed my mind' });
    await waitFor(() => failed.length === 1, { message: 'the node reports the cancelled execution' });
    off();
    expect(failed[0]).toMatchObject({
      type: 'module.failed',
      moduleId: 'qa',
      executionId: (error as ExecutionAbortedError).executionId,
      error: { code: 'execution_aborted' },
    });
    await expect(
      qa.execute({ question: 'aborted before sending' }, { signal: AbortSignal.abort('not now') }),
    ).rejects.toMatchObject({ code: 'execution_aborted', details: { reason: 'not now' } });
    // A reason String() cannot convert is told as its tag, as the embedded handle tells it.
    await expect(
      qa.execute({ question: 'aborted before sending' }, { signal: AbortSignal.abort(Object.create(null)) }),
    ).rejects.toMatchObject({ code: 'execution_aborted', details: { reason: '[object Object]' } });
    stub.delayMs = 0;
    expect((await qa.execute({ question: 'still serving' })).output.answer).toBe('slow');
  });

  it('cancels an aborted execution on the node even when its client closes right after', async () => {
    stub.fallback = () => text('Answer: slow');
    stub.delayMs = 30_000;
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    const observer = await (await fx().client()).session('closing');
    await observer.defineVariable('t', 'float', 0.4);
    const failed: ModuleEvent[] = [];
    const observed = await observer.module('qa', spec);
    const off = observed.on('module.failed', (event) => failed.push(event));
    const reports: string[] = [];
    const client = await fx().client({ onError: (_error, where) => reports.push(where) });
    const qa = await (await client.session('closing', { create: false })).module('qa');
    const controller = new AbortController();
    const running = qa.execute({ question: 'never mind' }, { signal: controller.signal });
    await waitFor(() => stub.requests.length === 1, { message: 'the execution reached the model' });
    controller.abort('leaving');
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionAbortedError);
    // As a script does once its call failed: the cancel sent on the way must not die with the connection.
    await client.close();
    await waitFor(() => failed.length === 1, { message: 'the node cancelled the execution' });
    off();
    expect(failed[0]).toMatchObject({
      executionId: (error as ExecutionAbortedError).executionId,
      error: { code: 'execution_aborted' },
    });
    // Answered before the connection closed: no "cancelling execution ...: connection closed" for onError.
    expect(reports).toEqual([]);
  });

  it('times an execution out on the node, which cancels it and keeps serving', async () => {
    stub.fallback = () => text('Answer: late');
    stub.delayMs = 2_000;
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('timeout');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const failed: Extract<ModuleEvent, { type: 'module.failed' }>[] = [];
    const off = qa.on('module.failed', (event) => failed.push(event));
    const timedOut = await qa.execute({ question: 'slow' }, { timeoutMs: 150 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(CallTimeoutError);
    await waitFor(() => failed.length === 1, { message: 'the timed-out execution is cancelled' });
    off();
    // The caller's error names the execution its event names.
    expect((timedOut as CallTimeoutError).details).toMatchObject({
      moduleId: 'qa',
      executionId: failed[0]!.executionId,
    });
    expect(failed[0]).toMatchObject({
      error: {
        code: 'execution_aborted',
        message: expect.stringContaining('timed out'),
        details: { reason: 'timed out' },
      },
    });
    stub.delayMs = 0;
    expect((await qa.execute({ question: 'fast' })).output.answer).toBe('late');
  });

  it("applies the node's executionTimeoutMs to a remote execution that gives no timeoutMs", async () => {
    stub.fallback = () => text('Answer: late');
    stub.delayMs = 2_000;
    await fx().runtime(fx().buckets(), { llm: llm(), executionTimeoutMs: 150 });
    const session = await (await fx().client()).session('node-timeout');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const failed: Extract<ModuleEvent, { type: 'module.failed' }>[] = [];
    const off = qa.on('module.failed', (event) => failed.push(event));
    const timedOut = await qa.execute({ question: 'slow' }).catch((error: unknown) => error);
    // The node's timeout, not the client's default of 120 s: the node said so, and cancelled the execution.
    expect(timedOut).toBeInstanceOf(CallTimeoutError);
    expect((timedOut as CallTimeoutError).timeoutMs).toBe(150);
    await waitFor(() => failed.length === 1, { message: 'the timed-out execution is cancelled' });
    off();
    expect(failed[0]).toMatchObject({ error: { code: 'execution_aborted', details: { reason: 'timed out' } } });
    // One given is checked by the client first, as an embedded handle checks it (see execute-timeout.nats.test.ts).
    await expect(qa.execute({ question: 'x' }, { timeoutMs: 0 })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'timeoutMs' },
    });
  });
});
