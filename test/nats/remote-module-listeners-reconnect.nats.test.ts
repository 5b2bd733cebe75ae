/**
 * A remote module handle's listeners across a dropped connection: module events are at most once, so what was
 * published while the client was cut off never comes. Once the connection is back, an `onState` listener is told the
 * state the module is in (never left on a stale one), and the listeners of a handle bound to a session's life stop,
 * with `onError` told, when that life ended meanwhile, as a remote watch of the same life does.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '../../src/nats/remote-client.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();

describe('remote onState across a dropped connection', () => {
  it('tells the listener the state the module is in once the connection is back (no state left stale for good)', async () => {
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    // The writer: a client that stays connected, runs the execution.
    const writer = await fx().client();
    const session = await writer.session('ost');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });

    // The watcher: a client behind a proxy, so that it alone can be cut off.
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    let disconnects = 0;
    const watcher = await connect({
      servers: proxy.url,
      reconnect: { waitMs: 100 },
      onError: (error) => {
        if ((error as { status?: string }).status === 'disconnected') disconnects += 1;
      },
    });
    onTestFinished(() => watcher.close());
    const seen: [string, string | undefined][] = [];
    const handle = await (await watcher.session('ost', { create: false })).module('qa');
    handle.onState((state, executionId) => seen.push([state, executionId]));
    await waitFor(() => seen.length === 1, { message: 'the first state read' });

    stubbed.stub().hold();
    const running = qa.execute({ question: 'hi' });
    await waitFor(() => seen.at(-1)?.[0] === 'executing', { message: 'the watcher hears executing' });

    // The watcher's connection drops while the execution finishes; the module goes idle meanwhile.
    proxy.cut();
    await waitFor(() => disconnects >= 1, { message: 'the watcher cut off' });
    stubbed.stub().release();
    await running;
    expect((await qa.describe()).state).toBe('idle');

    proxy.restore();
    // Back: a request of the watcher goes through again.
    await waitFor(async () => (await handle.describe()).state === 'idle', {
      timeout: 10_000,
      message: 'the watcher back',
    });

    // The listener must not be left believing the module still executes.
    await waitFor(() => seen.at(-1)?.[0] === 'idle', {
      timeout: 5_000,
      message: `onState to tell idle after the reconnect (heard ${JSON.stringify(seen)})`,
    });
  }, 40_000);
});

describe("a remote module handle's listeners when its session's life ends while the client is cut off", () => {
  it('stop and tell onError, as a remote watch of the same life does after the same outage', async () => {
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const writer = await fx().client();
    const owner = await writer.session('oend');
    await owner.defineVariable('t', 'float', 0.5);
    await owner.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });

    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const reports: { status?: string; code?: string; where: string }[] = [];
    const watcher = await connect({
      servers: proxy.url,
      reconnect: { waitMs: 100 },
      onError: (error, where) => reports.push({ ...(error as { status?: string; code?: string }), where }),
    });
    onTestFinished(() => watcher.close());
    // Both bound to the life the watcher's opens replied with (two session handles, as two parts of an app).
    const session = await watcher.session('oend');
    const other = await watcher.session('oend');
    expect(other.incarnation).toBe(session.incarnation);
    const handle = await other.module('qa');
    const heardVariables: unknown[] = [];
    await session.watchVariables('*', (change) => heardVariables.push(change));
    const heardModule: unknown[] = [];
    handle.on('module.result', (event) => heardModule.push(event));
    await new Promise((resolve) => setTimeout(resolve, 200));

    proxy.cut();
    await waitFor(() => reports.some((r) => r.status === 'disconnected'), { message: 'the watcher cut off' });
    // The life ends while the watcher cannot hear its end event.
    await owner.delete();
    proxy.restore();
    await waitFor(() => reports.some((r) => r.status === 'reconnected'), {
      timeout: 10_000,
      message: 'the watcher back',
    });

    // The variable watch finds the life gone by its catch-up read, and says so.
    await waitFor(() => reports.some((r) => r.code === 'session_not_found' && r.where.includes('watch')), {
      timeout: 10_000,
      message: `the watch to end (reports: ${JSON.stringify(reports)})`,
    });
    // The module handle's listener ends alike: the handle is no longer alive, and onError heard of its end.
    await waitFor(() => !handle.alive, { timeout: 5_000, message: 'the module handle to know its life ended' });
    expect(reports.filter((r) => r.code === 'session_not_found' && !r.where.includes('watch'))).not.toEqual([]);
  }, 40_000);
});
