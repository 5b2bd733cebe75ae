import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

describe('a node whose own connection is down as it answers', () => {
  it('sends the reply once it is back, to a client whose connection stayed up, long before the timeout', async () => {
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const statuses: string[] = [];
    await fx().node(fx().buckets(), {
      llm: stubbed.llm(),
      servers: proxy.url,
      nats: { reconnect: { waitMs: 100 } },
      onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
    });
    const client = await fx().client();
    const qa = await (await client.session('s1')).module('qa', predict);
    stubbed.stub().hold();
    // A timeout the test outlasts: only the reply the node held can settle it in time.
    const running = qa.execute({ question: 'during a blip' }, { timeoutMs: 60_000 });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });

    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off' });
    // The node answers while its connection is down.
    stubbed.stub().release();
    proxy.restore();

    await expect(running).resolves.toMatchObject({ output: { answer: 'stub answer' } });
    expect(statuses).toContain('reconnected');
  }, 30_000);
});
