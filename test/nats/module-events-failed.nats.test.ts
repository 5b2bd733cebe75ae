import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleEvent } from '../../src/index.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { spec, useModuleEventsFixture } from '../support/module-events-fixture.js';

const enc = new TextEncoder();

const { fx, nc, stub: currentStub, llm } = useModuleEventsFixture();
let stub: OpenAIStub;

beforeAll(() => {
  stub = currentStub();
});

describe('module events', () => {
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
        // Found by the observability audit: an alert on a failure could not tell which node's process it was.
        nodeId: runtime.nodeId,
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
