import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallTimeoutError, ExecutionAbortedError, createLanguageModel, type ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const enc = new TextEncoder();

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
let stub: OpenAIStub;

beforeAll(async () => {
  stub = await OpenAIStub.start();
});
afterEach(async () => {
  stub.requests.length = 0;
  stub.delayMs = 0;
});
afterAll(async () => {
  await stub?.close();
});

const llm = () => createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
const spec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
  maxRetries: 0,
};

describe('module events', () => {
  it('reach a plain nats subscriber: state changes, syncs, deltas and results with provenance', async () => {
    stub.fallback = () => text('Answer: The sky is blue.');
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const events: { subject: string; event: ModuleEvent }[] = [];
    const subscription = nc().subscribe('tether.v1.events.ev.module.>', {
      callback: (_e, msg) => events.push({ subject: msg.subject, event: msg.json() }),
    });
    await nc().flush();

    const results = await Promise.all([qa.execute({ question: 'why?' }), qa.execute({ question: 'why not?' })]);
    await waitFor(() => events.filter((e) => e.event.type === 'module.result').length === 2, {
      message: 'two results',
    });
    // Each node publishes its result before its own return to idle; the last state heard settles on idle.
    const lastState = () =>
      events
        .map((e) => e.event)
        .filter((e) => e.type === 'module.state')
        .at(-1);
    await waitFor(() => lastState()?.type === 'module.state' && (lastState() as { state: string }).state === 'idle', {
      message: 'back to idle',
    });
    subscription.unsubscribe();

    expect(new Set(events.map((e) => e.subject))).toEqual(new Set(['tether.v1.events.ev.module.qa']));
    for (const result of results) {
      // Every event of an execution names it, its state changes too: with two nodes they interleave.
      const mine = events.map((e) => e.event).filter((e) => 'executionId' in e && e.executionId === result.executionId);
      expect(mine.map((e) => (e.type === 'module.state' ? e.state : e.type))).toEqual([
        'syncing',
        'module.synced',
        'executing',
        ...mine.filter((e) => e.type === 'module.delta').map(() => 'module.delta'),
      ]);
      const resultEvent = events
        .map((e) => e.event)
        .find((e) => e.type === 'module.result' && e.result.executionId === result.executionId);
      expect(resultEvent).toEqual({
        type: 'module.result',
        sessionId: 'ev',
        moduleId: 'qa',
        incarnation: session.incarnation,
        result: { ...result, provenance: { t: 1 } },
      });
      const deltas = mine.flatMap((e) => (e.type === 'module.delta' ? [e.delta] : []));
      expect(deltas.join('')).toBe('The sky is blue.');
    }
    const states = events.flatMap((e) => (e.event.type === 'module.state' ? [e.event] : []));
    // State changes on the wire, as any subscriber reads them: a busy state names its execution, idle none.
    expect(states.find((e) => e.state === 'syncing')).toEqual({
      type: 'module.state',
      state: 'syncing',
      executionId: expect.stringMatching(new RegExp(`^(${results.map((r) => r.executionId).join('|')})$`)),
      sessionId: 'ev',
      moduleId: 'qa',
      incarnation: session.incarnation,
    });
    expect(states.at(-1)).toEqual({
      type: 'module.state',
      state: 'idle',
      sessionId: 'ev',
      moduleId: 'qa',
      incarnation: session.incarnation,
    });
  });

  it('feed a remote handle: on(type) and onState, from whichever node runs the execution', async () => {
    stub.fallback = () => text('Answer: ok');
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('remote-ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const states: [string, string | undefined][] = [];
    const results: string[] = [];
    const offState = qa.onState((state, executionId) => states.push([state, executionId]));
    const offResult = qa.on('module.result', (event) => results.push(event.result.executionId));
    await waitFor(() => states.length > 0, { message: 'initial state' });
    expect(states).toEqual([['idle', undefined]]);
    const done = await Promise.all(Array.from({ length: 6 }, (_, i) => qa.execute({ question: `q${i}` })));
    await waitFor(() => results.length === 6, { message: 'six results' });
    offState();
    offResult();
    expect(results.sort()).toEqual(done.map((r) => r.executionId).sort());
    // Each execution was heard executing, by its id, whichever node ran it.
    const executing = states.filter(([state]) => state === 'executing').map(([, executionId]) => executionId);
    expect(new Set(executing)).toEqual(new Set(done.map((r) => r.executionId)));
  });

  it('refuse a listener of an event type no module announces on a remote handle, as on an embedded one', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: llm() });
    const remote = await (await fx().client()).session('typo-ev');
    await remote.defineVariable('t', 'float', 0.4);
    const local = await node.session('typo-ev');
    const handles = [await remote.module('qa', spec), await local.module('qa')];
    for (const qa of handles) {
      expect(() => qa.on('module.finished' as never, () => {})).toThrow(
        expect.objectContaining({ code: 'validation_failed', message: expect.stringContaining("'module.finished'") }),
      );
      // State changes have their own listener: said so, rather than a listener that hears them on one kind of handle.
      expect(() => qa.on('module.state' as never, () => {})).toThrow(/onState/);
    }
  });

  it('reach a remote handle before the reply of the execution that caused them', async () => {
    stub.fallback = () => text('Answer: ok');
    await fx().runtime(fx().buckets(), { llm: llm() });
    const client = await fx().client();
    const session = await client.session('ordered-ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const seen: string[] = [];
    const off = qa.on('module.synced', (event) => seen.push(`synced ${event.executionId}`));
    const offResult = qa.on('module.result', (event) => seen.push(`result ${event.result.executionId}`));
    for (let i = 0; i < 3; i++) {
      const { executionId } = await qa.execute({ question: `q${i}` });
      // No wait: the node sent the events in the same write as the reply, ahead of it.
      expect(seen.slice(-2)).toEqual([`synced ${executionId}`, `result ${executionId}`]);
    }
    off();
    offResult();
  });
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
  /**
   * Sends two executions as any NATS client would, with their own ids, and waits until one runs (the stub holds
   * its request) and the other is queued behind it; collects the module.failed a plain subscriber hears.
   */
  async function busyModule(sid: string) {
    stub.fallback = () => text('Answer: never');
    stub.delayMs = 30_000;
    const runtime = await fx().runtime(fx().buckets(), { llm: llm() });
    const client = await fx().client();
    const session = await client.session(sid);
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const failed: ModuleEvent[] = [];
    const subscription = nc().subscribe(`tether.v1.events.${sid}.module.qa`, {
      callback: (_e, msg) => {
        const event = msg.json<ModuleEvent>();
        if (event.type === 'module.failed') failed.push(event);
      },
    });
    await nc().flush();
    const execute = (executionId: string) =>
      nc()
        .request(
          `tether.v1.session.${sid}.module.qa.execute`,
          enc.encode(JSON.stringify({ inputs: { question: executionId }, executionId })),
          { timeout: 10_000 },
        )
        .then((reply) => reply.json<{ error?: { code: string; details: Record<string, unknown> } }>());
    const replies = Promise.all([execute('running-1'), execute('queued-1')]);
    await waitFor(
      async () => {
        const { state, queued } = await qa.describe();
        return state === 'executing' && queued === 1;
      },
      { message: 'one execution running, one queued' },
    );
    return { runtime, failed, replies, subscription };
  }

  it('publish module.failed for each execution a crashed module process held, by executionId', async () => {
    const { runtime, failed, replies, subscription } = await busyModule('crashed');
    await runtime.stopProcess('tether.module.crashed.qa', { error: new Error('boom') });
    // Each caller's error names its own execution (the one it sent), as the module.failed event of it does.
    const [running, queued] = await replies;
    expect(running!.error).toMatchObject({ code: 'process_exited', details: { executionId: 'running-1' } });
    expect(queued!.error).toMatchObject({ code: 'process_exited', details: { executionId: 'queued-1' } });
    await waitFor(() => failed.length === 2, { message: 'two module.failed on the events subject' });
    subscription.unsubscribe();
    expect(failed.map((event) => event.type === 'module.failed' && event.executionId).sort()).toEqual([
      'queued-1',
      'running-1',
    ]);
    for (const event of failed) {
      expect(event).toMatchObject({
        type: 'module.failed',
        sessionId: 'crashed',
        moduleId: 'qa',
        error: {
          code: 'process_exited',
          details: {
            reason: 'crash: boom',
            moduleId: 'qa',
            executionId: (event as { executionId: string }).executionId,
          },
        },
      });
    }
  });

  it('publish module.failed for the running and the queued execution a wire stop dropped', async () => {
    const { failed, replies, subscription } = await busyModule('stopped');
    const stop = await nc().request('tether.v1.session.stopped.module.qa.stop', enc.encode('{}'), { timeout: 5000 });
    expect(stop.json()).toMatchObject({ result: { stopped: true } });
    for (const reply of await replies) expect(reply.error).toMatchObject({ code: 'process_exited' });
    await waitFor(() => failed.length === 2, { message: 'two module.failed on the events subject' });
    subscription.unsubscribe();
    expect(failed.map((event) => event.type === 'module.failed' && event.executionId).sort()).toEqual([
      'queued-1',
      'running-1',
    ]);
    for (const event of failed)
      expect(event).toMatchObject({ error: { code: 'process_exited', details: { reason: 'shutdown' } } });
  });

  it('publish module.failed for a queued execution that timed out or was cancelled before it started', async () => {
    const { runtime, failed, replies, subscription } = await busyModule('queued-end');
    const timedOut = await nc().request(
      'tether.v1.session.queued-end.module.qa.execute',
      enc.encode(JSON.stringify({ inputs: { question: 'q' }, executionId: 'queued-2', timeoutMs: 200 })),
      { timeout: 10_000 },
    );
    expect(timedOut.json()).toMatchObject({ error: { code: 'call_timeout' } });
    const cancel = await nc().request(
      'tether.v1.session.queued-end.module.qa.cancel',
      enc.encode(JSON.stringify({ executionId: 'queued-1' })),
      { timeout: 5000 },
    );
    expect(cancel.json()).toMatchObject({ result: { cancelled: true } });
    await waitFor(() => failed.length === 2, { message: 'two module.failed on the events subject' });
    const reasons = Object.fromEntries(
      failed.map((event) => [
        (event as { executionId: string }).executionId,
        event.type === 'module.failed' && event.error,
      ]),
    );
    expect(reasons).toMatchObject({
      'queued-2': { code: 'execution_aborted', details: { reason: 'timed out' } },
      'queued-1': { code: 'execution_aborted' },
    });
    expect(await (await runtime.session('queued-end')).module('qa').then((qa) => qa.describe())).toMatchObject({
      failed: 2,
    });
    await runtime.stopProcess('tether.module.queued-end.qa');
    await replies;
    subscription.unsubscribe();
  });
});
