import type { InspectionEvent } from 'xstate';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/**
 * A node behind a proxy, a client on the server itself with a module on the node, and an execution of it waiting at
 * the provider; `executed()` is true once the node's module process is back at rest after executing (its reply due).
 */
async function executionAtProvider() {
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
  // A timeout the test outlasts: only the reply the node held can settle it in time.
  const running = qa.execute({ question: 'during a blip' }, { timeoutMs: 60_000 });
  await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
  const executed = (): boolean => states.lastIndexOf('idle') > states.lastIndexOf('executing');
  return { proxy, node, statuses, running, executed };
}

describe('a node whose own connection is down as it answers', () => {
  it('sends the reply once it is back, to a client whose connection stayed up, long before the timeout', async () => {
    const { proxy, statuses, running, executed } = await executionAtProvider();
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
    const { proxy, node, statuses, running, executed } = await executionAtProvider();
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
});
