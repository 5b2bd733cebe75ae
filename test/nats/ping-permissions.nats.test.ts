import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, connect } from '../../src/index.js';
import { NODE_MISSED_PINGS, NODE_PING_INTERVAL_MS } from '../../src/nats/watched-request.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { useOpenAIStub } from '../support/openai-stub.js';

const stubbed = useOpenAIStub();

// A deployment may refuse clients the service subjects: this client can publish anything but `$SRV.>`.
const AUTHORIZATION = `
authorization {
  users = [
    { user: node, password: node-secret }
    { user: client, password: client-secret, permissions: { publish: { deny: ["$SRV.>"] } } }
  ]
}`;

async function serverWithUsers(): Promise<NatsTestServer> {
  const server = await startNatsServer({ config: AUTHORIZATION });
  onTestFinished(() => server.stop());
  return server;
}

describe('a client that may not ping nodes', () => {
  it('waits for a long execution as a plain request does, without reporting the node lost', async () => {
    const server = await serverWithUsers();
    const node = await Runtime.start({
      llm: stubbed.llm(),
      onError: () => {},
      nats: { servers: server.url, user: 'node', pass: 'node-secret' },
    });
    onTestFinished(() => node.stop());
    const reported: string[] = [];
    const client = await connect({
      servers: server.url,
      user: 'client',
      pass: 'client-secret',
      onError: (_error, where) => reported.push(where),
    });
    onTestFinished(() => client.close());
    const qa = await (
      await client.session('denied')
    ).module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
    });

    // Long enough for every ping the client tries to fail; were a refused ping a missed one, the node would be
    // reported lost after NODE_MISSED_PINGS of them.
    stubbed.stub().delayMs = NODE_PING_INTERVAL_MS * (NODE_MISSED_PINGS + 1);
    const result = await qa.execute({ question: 'still there?' }, { timeoutMs: 30_000 });
    expect(result.output).toEqual({ answer: 'stub answer' });
    expect(stubbed.stub().chatRequests).toHaveLength(1);
    // The refusal is the server's answer to a ping, not a fault of the connection: it stays up and serves.
    expect(reported).toEqual([]);
    stubbed.stub().delayMs = 0;
    expect((await qa.execute({ question: 'again?' })).output).toEqual({ answer: 'stub answer' });
  }, 30_000);
});
