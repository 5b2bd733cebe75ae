/**
 * A NATS server that freezes (SIGSTOP here; a stalled VM, or a network path gone silent, alike) while an execution is
 * in flight: the connections stay open, so nothing tells the client of an outage, and every node's pings time out at
 * once. That says nothing of the nodes.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, connect } from '../../src/index.js';
import { NODE_MISSED_PINGS, NODE_PING_INTERVAL_MS, NODE_PING_TIMEOUT_MS } from '../../src/nats/node-watch.js';
import { UNTAKEN_AFTER_MS } from '../../src/nats/taker-search.js';
import { startNatsServer } from '../support/nats-server.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const { stub, llm } = useOpenAIStub();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server of the test's own (to freeze), a node and a client on it, and a module `qa` of session `sessionId`. */
async function moduleOnOwnServer(sessionId: string) {
  const server = await startNatsServer();
  onTestFinished(() => server.stop());
  const node = await Runtime.start({ onError: () => {}, llm: llm(), nats: { servers: server.url } });
  onTestFinished(() => node.stop());
  const client = await connect({ servers: server.url, onError: () => {} });
  onTestFinished(() => client.close());
  const session = await client.session(sessionId);
  return { server, qa: await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' }) };
}

describe('a NATS server frozen during an execution', () => {
  // Found by a review: every execution in flight failed with node_lost, naming nodes that were alive, and then ran.
  it('is waited out: the execution is answered once the server is back, not lost with its node', async () => {
    const { server, qa } = await moduleOnOwnServer('frozen');

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

  // Found by a review of an earlier fix, which gave nodes 8 s to take an execution: one held up by a frozen server
  // longer than that was refused, though its caller was still waiting.
  it('runs an execution the server held longer than a node is given to take it, its caller still waiting', async () => {
    const { server, qa } = await moduleOnOwnServer('held');
    stub().reply(text('Answer: held, then run'));
    server.signal!('SIGSTOP');
    const executing = qa.execute({ question: 'q' }, { timeoutMs: 60_000 }).then(
      (result) => result,
      (error: unknown) => error,
    );
    await sleep(UNTAKEN_AFTER_MS + 3_000);
    server.signal!('SIGCONT');
    expect(await executing).toMatchObject({ moduleId: 'qa', output: { answer: 'held, then run' } });
  }, 60_000);
});

describe('a NATS server frozen while a remote watch starts', () => {
  // Found by the leak audit: the watch's flush had no deadline, so watchVariables hung for as long as the server was
  // frozen, whatever the client's timeoutMs, and the watch's subscription was made once it thawed, with no caller.
  it("rejects within the client's timeout with call_timeout, and leaves no subscription once the server is back", async () => {
    const server = await startNatsServer({ monitor: true });
    onTestFinished(() => server.stop());
    const node = await Runtime.start({ onError: () => {}, llm: llm(), nats: { servers: server.url } });
    onTestFinished(() => node.stop());
    const client = await connect({ servers: server.url, name: 'frozen-watch', timeoutMs: 300, onError: () => {} });
    onTestFinished(() => client.close());
    const session = await client.session('frozen-watch');
    const clientSubscriptions = async (): Promise<number> => {
      const connz = (await (await fetch(`${server.monitorUrl!}/connz`)).json()) as {
        connections: { name?: string; subscriptions: number }[];
      };
      return connz.connections.find((connection) => connection.name === 'frozen-watch')!.subscriptions;
    };
    const before = await clientSubscriptions();

    server.signal!('SIGSTOP');
    const watching = session
      .watchVariables('*', () => {})
      .then(
        (unwatch) => unwatch,
        (error: unknown) => error,
      );
    const settled = await Promise.race([watching, sleep(3_000).then(() => 'still waiting')]);
    server.signal!('SIGCONT');
    expect(settled).toMatchObject({ code: 'call_timeout', timeoutMs: 300 });
    expect((settled as Error).message).toContain("watch of '*' in session 'frozen-watch'");
    await client.session('frozen-watch').then((again) => again.getVariables([]));
    expect(await clientSubscriptions()).toBe(before);
  }, 30_000);
});
