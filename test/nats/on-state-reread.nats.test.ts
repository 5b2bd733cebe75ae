/**
 * A remote `onState` listener reads the module's state again each time its client's connection is back (README:
 * "each time the client's connection is back after dropping, the state is read again and told if it is not the one
 * told last"). When that read finds no node yet (the nodes reconnect later than the client after the same outage), it
 * is tried again until one answers (found by a review: it was reported and never tried again, and the listener kept
 * a state the module had left long ago).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, type NatsConnectionStatus } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();

describe('remote onState after an outage that the nodes come back from later than the client', () => {
  it('tells the state the module is in once a node answers again, not the stale one for good', async () => {
    // The node behind its own proxy, so that it comes back later than the watcher.
    const nodeLink = await startTcpProxy(fx().server.url);
    onTestFinished(() => nodeLink.close());
    const nodeStatuses: NatsConnectionStatus[] = [];
    await fx().node(fx().buckets(), {
      llm: stubbed.llm(),
      servers: nodeLink.url,
      nats: { reconnect: { waitMs: 100 } },
      onError: (error) => {
        if (error instanceof NatsConnectionError) nodeStatuses.push(error.status);
      },
    });
    const writer = await fx().client();
    const qa = await (
      await writer.session('st')
    ).module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
    });

    const watcherLink = await startTcpProxy(fx().server.url);
    onTestFinished(() => watcherLink.close());
    const watcherStatuses: NatsConnectionStatus[] = [];
    const reported: unknown[] = [];
    const watcher = await fx().client({
      servers: watcherLink.url,
      reconnect: { waitMs: 100 },
      // A read that finds no node fails after riding out no responders this long, and is then tried again.
      timeoutMs: 1000,
      onError: (error) => {
        if (error instanceof NatsConnectionError) watcherStatuses.push(error.status);
        else reported.push(error);
      },
    });
    const handle = await (await watcher.session('st', { create: false })).module('qa');
    const seen: string[] = [];
    handle.onState((state) => seen.push(state));
    await waitFor(() => seen.length === 1, { message: 'the first state read' });

    stubbed.stub().hold();
    // Its writer may hear node_lost while the node is away: not what this test is about.
    const running = qa.execute({ question: 'hi' }).catch(() => undefined);
    await waitFor(() => seen.at(-1) === 'executing', { message: 'the watcher hears executing' });

    // NATS goes away for both; the execution ends meanwhile (its events are lost to both).
    nodeLink.cut();
    watcherLink.cut();
    await waitFor(() => nodeStatuses.includes('disconnected') && watcherStatuses.includes('disconnected'));
    stubbed.stub().release();

    // The watcher is back first; the node only 3 s later (a slower reconnect policy, a node restarting...), past the
    // watcher's first read.
    watcherLink.restore();
    await waitFor(() => watcherStatuses.includes('reconnected'), { message: 'the watcher reconnects' });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    nodeLink.restore();
    await waitFor(() => nodeStatuses.includes('reconnected'), { message: 'the node reconnects' });
    await running;
    // A request of the watcher goes through again: the module is idle.
    await waitFor(async () => (await handle.describe()).state === 'idle', { timeout: 10_000 });

    await waitFor(() => seen.at(-1) === 'idle', {
      timeout: 8_000,
      message: `onState to tell idle once a node answers (heard ${JSON.stringify(seen)}; reported ${reported.map(String).join(' | ')})`,
    });
    expect(seen.at(-1)).toBe('idle');
  }, 60_000);
});
