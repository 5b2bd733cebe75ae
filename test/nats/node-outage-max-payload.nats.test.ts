/**
 * A node on a server whose `max_payload` is above the default 1 MiB, answering while its own connection is down: what
 * it holds until it is back is sized to that server's limit, as it would have been without the outage.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, type ModuleEvent } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture({ maxPayload: 4 * 1024 * 1024 });
const plain = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const ANSWER = 'z'.repeat(1_500_000);

describe('a node whose server takes more than 1 MiB, answering while its connection is down', () => {
  it('sends a result over 1 MiB once it is back, to the caller and to subscribers', async () => {
    // Found by a review: nats.js empties `connection.info` as it dials again, and the node then checked the reply and
    // the result event against 1 MiB: the caller got payload_too_large, subscribers module.failed.
    stubbed.stub().fallback = () => text(`Answer: ${ANSWER}`);
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const statuses: string[] = [];
    const states: string[] = [];
    const inspect = (event: InspectionEvent): void => {
      const { snapshot } = event as { snapshot?: { value?: unknown; context?: { moduleId?: unknown } } };
      if (event.type === '@xstate.snapshot' && snapshot?.context?.moduleId === 'qa')
        states.push(String(snapshot.value));
    };
    await fx().node(fx().buckets(), {
      llm: stubbed.llm(),
      servers: proxy.url,
      inspect,
      nats: { reconnect: { waitMs: 100 } },
      onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
    });
    const client = await fx().client();
    const qa = await (await client.session('s1')).module('qa', predict);
    const results: string[] = [];
    const events = plain().subscribe('tether.v1.events.s1.module.qa', {
      callback: (_error, msg) => {
        const event = msg.json<ModuleEvent>();
        if (event.type === 'module.result') results.push('module.result');
        if (event.type === 'module.failed') results.push(`module.failed: ${event.error.code}`);
      },
    });
    onTestFinished(() => events.unsubscribe());
    await plain().flush();

    stubbed.stub().hold();
    const running = qa.execute({ question: 'big' }, { timeoutMs: 60_000 });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off' });
    // The node has dialled again at least once by now (every 100 ms), and failed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    stubbed.stub().release();
    await waitFor(() => states.lastIndexOf('idle') > states.lastIndexOf('executing'), {
      message: 'the execution done on the node',
      timeout: 20_000,
    });
    proxy.restore();

    const reply = await running;
    expect((reply.output as { answer: string }).answer).toHaveLength(ANSWER.length);
    await waitFor(() => results.length > 0, { message: 'the result event' });
    expect(results).toEqual(['module.result']);
  }, 60_000);
});
