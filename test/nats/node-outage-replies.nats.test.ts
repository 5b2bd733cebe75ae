import type { Msg } from 'nats';
import type { InspectionEvent } from 'xstate';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError } from '../../src/index.js';
import type { RemoteModuleHandle } from '../../src/nats/remote-module.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { rawRequest } from '../support/raw-request.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/**
 * A node behind a proxy, a client on the server itself with a module on the node, and an execution of it waiting at
 * the provider; `executed()` is true once the node's module process is back at rest after executing (its reply due).
 */
async function executionAtProvider<T>(send: (qa: RemoteModuleHandle) => T) {
  const proxy = await startTcpProxy(fx().server.url);
  onTestFinished(() => proxy.close());
  const statuses: string[] = [];
  const states: string[] = [];
  const inspect = (event: InspectionEvent): void => {
    const { snapshot } = event as { snapshot?: { value?: unknown; context?: { moduleId?: unknown } } };
    if (event.type === '@xstate.snapshot' && snapshot?.context?.moduleId === 'qa') states.push(String(snapshot.value));
  };
  const node = await fx().node(fx().buckets(), {
    llm: stubbed.llm(),
    servers: proxy.url,
    inspect,
    nats: { reconnect: { waitMs: 100 } },
    onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
  });
  const client = await fx().client();
  const qa = await (await client.session('s1')).module('qa', predict);
  stubbed.stub().hold();
  const running = send(qa);
  await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
  const executed = (): boolean => states.lastIndexOf('idle') > states.lastIndexOf('executing');
  return { proxy, node, qa, statuses, running, executed };
}

/** The execution as the module's handle sends it, with a timeout the test outlasts: only a reply held can settle it. */
const byHandle = (qa: RemoteModuleHandle) => qa.execute({ question: 'during a blip' }, { timeoutMs: 60_000 });

describe('a node whose own connection is down as it answers', () => {
  it('sends the reply once it is back, to a client whose connection stayed up, long before the timeout', async () => {
    const { proxy, statuses, running, executed } = await executionAtProvider(byHandle);
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off' });
    // The node answers while its connection is down, and is back only once its reply is due.
    stubbed.stub().release();
    await waitFor(executed, { message: 'the execution done on the node' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.restore();

    await expect(running).resolves.toMatchObject({ output: { answer: 'stub answer' } });
    expect(statuses).toContain('reconnected');
  }, 30_000);

  it('sends the replies it holds before a stop made meanwhile goes on, once it is back', async () => {
    const { proxy, node, statuses, running, executed } = await executionAtProvider(byHandle);
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off' });
    stubbed.stub().release();
    await waitFor(executed, { message: 'the execution done on the node' });
    const stopped = node.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.restore();

    await expect(running).resolves.toMatchObject({ output: { answer: 'stub answer' } });
    await stopped;
  }, 30_000);

  it('sends the events of what it did meanwhile once it is back, in order and ahead of the reply', async () => {
    // A client in any language, on the server itself, subscribed to the module's events on the connection it sends
    // the execution on: it hears what goes out, in the order it went.
    const seen: string[] = [];
    let replies: Msg[] = [];
    const events = plain().subscribe('tether.v1.events.s1.module.qa', {
      callback: (_error, msg) => {
        const event = msg.json<{ type: string; state?: string }>();
        seen.push(event.state === undefined ? event.type : `${event.type}:${event.state}`);
        if (event.type === 'module.result') seen.push(`replies so far: ${replies.length}`);
      },
    });
    onTestFinished(() => events.unsubscribe());
    await plain().flush();
    const { proxy, qa, statuses, executed } = await executionAtProvider(() => {
      replies = rawRequest(plain(), 'tether.v1.session.s1.module.qa.execute', {
        inputs: { question: 'during a blip' },
        timeoutMs: 60_000,
      });
    });
    const heard: string[] = [];
    qa.onState((state) => heard.push(state));
    await waitFor(() => heard.at(-1) === 'executing', { message: 'the handle told of the execution' });
    seen.length = 0;
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off' });
    stubbed.stub().release();
    await waitFor(executed, { message: 'the execution done on the node' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    proxy.restore();

    await waitFor(() => replies.length === 1 && seen.at(-1) === 'module.state:idle', {
      message: 'the reply and the events of the execution',
    });
    // The answer's streamed pieces, its result (before the reply), then the module at rest: as they were made.
    const deltas = seen.slice(0, -3);
    expect(deltas.length).toBeGreaterThan(0);
    expect(new Set(deltas)).toEqual(new Set(['module.delta']));
    expect(seen.slice(-3)).toEqual(['module.result', 'replies so far: 0', 'module.state:idle']);
    // The module handle's own subscription hears them too: it does not stay at `executing`.
    await waitFor(() => heard.at(-1) === 'idle', { message: 'the handle told the module is idle again' });
  }, 30_000);
});
