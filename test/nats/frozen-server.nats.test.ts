/**
 * A NATS server that freezes (SIGSTOP here; a stalled VM, or a network path gone silent, alike) while an execution is
 * in flight: the connections stay open, so nothing tells the client of an outage, and every node's pings time out at
 * once. That says nothing of the nodes.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, connect } from '../../src/index.js';
import { NODE_MISSED_PINGS, NODE_PING_INTERVAL_MS, NODE_PING_TIMEOUT_MS } from '../../src/nats/node-watch.js';
import { startNatsServer } from '../support/nats-server.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const { stub, llm } = useOpenAIStub();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a NATS server frozen during an execution', () => {
  // Found by a review: every execution in flight failed with node_lost, naming nodes that were alive, and then ran.
  it('is waited out: the execution is answered once the server is back, not lost with its node', async () => {
    const server = await startNatsServer();
    onTestFinished(() => server.stop());
    const node = await Runtime.start({ onError: () => {}, llm: llm(), nats: { servers: server.url } });
    onTestFinished(() => node.stop());
    const client = await connect({ servers: server.url, onError: () => {} });
    onTestFinished(() => client.close());
    const session = await client.session('frozen');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });

    stub().hold();
    stub().reply(text('Answer: after the freeze'));
    const asked = stub().chatRequests.length;
    const executing = qa.execute({ question: 'q' }).then(
      (result) => result,
      (error: unknown) => error,
    );
    await waitFor(() => stub().chatRequests.length > asked, { message: 'the execution reached the model' });
    // Longer than the pings a lost node misses, each waited out.
    server.signal!('SIGSTOP');
    await sleep((NODE_MISSED_PINGS + 1) * (NODE_PING_INTERVAL_MS + NODE_PING_TIMEOUT_MS));
    server.signal!('SIGCONT');
    stub().release();
    expect(await executing).toMatchObject({ moduleId: 'qa', output: { answer: 'after the freeze' } });
  }, 60_000);
});
