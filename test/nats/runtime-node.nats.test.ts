import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as natsConnect, headers as natsHeaders } from 'nats';
import { connect } from '../../src/nats/remote-client.js';
import {
  NodeStoppingError,
  Runtime,
  ValidationError,
  createLanguageModel,
  type SerializedError,
} from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { OpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

let server: NatsTestServer;
let counter = 0;

beforeAll(async () => {
  server = await startNatsServer({ monitor: true });
});
afterAll(async () => {
  await server?.stop();
});

function natsOptions() {
  counter += 1;
  const id = `${process.pid}_${counter}`;
  return { servers: server.url, variablesBucket: `rt_vars_${id}`, sessionsBucket: `rt_sessions_${id}` };
}

describe('Runtime.start({ nats })', () => {
  it('serves remote clients and shares variables with another node', async () => {
    const nats = natsOptions();
    const a = await Runtime.start({ nats, onError: () => {} });
    const b = await Runtime.start({ nats, onError: () => {} });
    const client = await connect({ servers: server.url });
    try {
      const remote = await client.session('shared');
      await remote.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
      await remote.setVariable('temperature', 0.9);
      // Both nodes' own sessions see the write, through their KV watchers.
      for (const node of [a, b]) {
        const local = await node.session('shared');
        await waitFor(async () => (await local.getVariable('temperature')) === 0.9);
      }
      // A write made in process on node B reaches the client.
      await (await b.session('shared')).setVariable('temperature', 1.1);
      await waitFor(async () => (await remote.getVariable('temperature')) === 1.1);
    } finally {
      await client.close();
      await a.stop();
      await b.stop();
    }
  });

  it('makes a session opened through its embedded API one that clients and other nodes reach', async () => {
    const nats = natsOptions();
    const a = await Runtime.start({ nats, onError: () => {} });
    const b = await Runtime.start({ nats, onError: () => {} });
    const client = await connect({ servers: server.url });
    try {
      await (await a.session('embedded')).defineVariable('retries', 'integer', 3);

      // Not opened by the client: the session must already exist, whichever node the request reaches.
      const remote = await client.session('embedded', { create: false });
      for (let i = 0; i < 6; i++) expect(await remote.getVariable('retries')).toBe(3);
      expect((await remote.listVariables()).map((record) => record.name)).toEqual(['retries']);
    } finally {
      await client.close();
      await a.stop();
      await b.stop();
    }
  });

  it('hibernates an idle session instead of deleting what other nodes share, and wakes it on the next call', async () => {
    const nats = natsOptions();
    const node = await Runtime.start({ nats, hibernateAfterMs: 40, onError: () => {} });
    try {
      const session = await node.session('sleepy');
      await session.defineVariable('kept', 'string', 'yes');
      await waitFor(() => !node.sessionIds().includes('sleepy'), { timeout: 3000 });
      expect(await session.getVariable('kept')).toBe('yes');
      expect(node.sessionIds()).toContain('sleepy');
    } finally {
      await node.stop();
    }
  });

  it('serves writes with unavailableRetryMs as long as a timer can wait', async () => {
    // A write waits callTimeoutMs plus this for its process: the sum must not pass what a timer can wait.
    const node = await Runtime.start({
      nats: { ...natsOptions(), unavailableRetryMs: 2 ** 31 - 1 },
      onError: () => {},
    });
    try {
      const session = await node.session('patient');
      await session.defineVariable('n', 'integer', 1);
      await session.setVariable('n', 2);
      expect(await session.getVariable('n')).toBe(2);
    } finally {
      await node.stop();
    }
  });

  it('ends the requests a stop still waits for with node_stopping on endRequests, cancelling their executions', async () => {
    const stub = await OpenAIStub.start();
    stub.hold();
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const node = await Runtime.start({ nats: natsOptions(), llm, onError: () => {} });
    const client = await connect({ servers: server.url });
    try {
      const session = await client.session('draining');
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      const running = qa.execute({ question: 'slow?' });
      void running.catch(() => {});
      await waitFor(() => stub.requests.length === 1, { message: 'the execution reached the model' });
      const stopping = node.stop();
      expect(await node.endRequests('drain timeout of 10 ms ran out')).toBe(1);
      const ended = await running.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(ended).toBeInstanceOf(NodeStoppingError);
      expect(ended).toMatchObject({
        code: 'node_stopping',
        nodeId: node.nodeId,
        subject: 'tether.v1.session.draining.module.qa.execute',
        details: { reason: 'drain timeout of 10 ms ran out' },
      });
      // Its execution was cancelled: the provider request dropped while this process (the node's) runs on.
      await waitFor(() => stub.abandoned === 1, { message: 'the provider request dropped' });
      await stopping;
    } finally {
      stub.release();
      await client.close();
      await node.stop();
      await stub.close();
    }
  });

  // Found by the rolling-deploy audit: every ended request was told "an execution was aborted, a write may or may not
  // have been applied", a read too, and its details did not say what became of it, as a node_lost's do.
  it('tells an ended read that it changed nothing and an ended write that it may have been applied', async () => {
    const node = await Runtime.start({ nats: natsOptions(), onError: () => {} });
    const raw = await natsConnect({ servers: server.url });
    try {
      await (await node.session('held')).defineVariable('x', 'integer', 1);
      // Held in the read-your-writes wait for a revision the node never reaches, until the node ends them.
      const held = (operation: string, body: object) => {
        const h = natsHeaders();
        h.set('Tether-Min-Revision', '999999');
        const data = new TextEncoder().encode(JSON.stringify(body));
        return raw.request(`tether.v1.session.held.var.${operation}`, data, { headers: h, timeout: 10_000 });
      };
      const replies = [held('get', { name: 'x' }), held('set', { name: 'x', value: 2 })];
      // Ended as they reach the node (each one once).
      let ended = 0;
      await waitFor(async () => (ended += await node.endRequests('drain timeout of 10 ms ran out')) === 2);
      const [read, write] = (await Promise.all(replies)).map((reply) => reply.json<{ error: SerializedError }>().error);
      expect(read).toMatchObject({ code: 'node_stopping', details: { read: true } });
      expect(read!.message).toMatch(/it ended the request, which changed nothing$/);
      expect(write).toMatchObject({ code: 'node_stopping', details: { outcome: 'unknown' } });
      expect(write!.message).toMatch(/it ended the request: it may or may not have been applied$/);
    } finally {
      await raw.close();
      await node.stop();
    }
  });

  it('refuses a store together with nats, and an unreachable server with a clear error', async () => {
    const { createMemoryStore } = await import('../../src/index.js');
    await expect(Runtime.start({ nats: natsOptions(), store: createMemoryStore() })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(Runtime.start({ nats: { servers: 'nats://127.0.0.1:1' } })).rejects.toMatchObject({
      code: 'nats_connection',
      status: 'unreachable',
      message: expect.stringContaining('cannot connect to NATS (nats://127.0.0.1:1)'),
    });
  });

  // Found by mutation: the default name could go with every test passing (`tether serve` names its connection itself).
  it.skipIf(process.env.NATS_URL !== undefined)(
    "connects as 'tether-node' when started without a name, as the server's monitoring shows it",
    async () => {
      const named = async (): Promise<number> => {
        const connz = (await (await fetch(`${server.monitorUrl}/connz?state=open&limit=1000`)).json()) as {
          connections?: { name?: string }[];
        };
        return (connz.connections ?? []).filter((connection) => connection.name === 'tether-node').length;
      };
      const before = await named();
      const node = await Runtime.start({ onError: () => {}, nats: natsOptions() });
      try {
        expect(await named()).toBe(before + 1);
      } finally {
        await node.stop();
      }
    },
  );

  it('requires TLS of a tls:// server: one that offers none is refused, not spoken to in plain text', async () => {
    const plain = server.url.replace(/^nats:/, 'tls:');
    for (const start of [
      () => Runtime.start({ onError: () => {}, nats: { ...natsOptions(), servers: plain } }),
      () => connect({ servers: plain }),
    ]) {
      await expect(start()).rejects.toMatchObject({
        code: 'nats_connection',
        status: 'unreachable',
        message: expect.stringContaining('the server offers no TLS, which a tls:// URL requires'),
        details: expect.objectContaining({ tls: 'not_offered' }),
      });
    }
  });
});
