import { headers, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import {
  NatsConnectionError,
  RevisionUnknownError,
  Runtime,
  connect,
  type NatsConnectionStatus,
} from '../../src/index.js';
import { bucketLastRevision } from '../../src/nats/node-store.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/** A raw request carrying `Tether-Min-Revision: minRevision`, as any NATS client would send it. */
async function rawWithMinRevision(subject: string, body: object, minRevision: number) {
  const h = headers();
  h.set('Tether-Min-Revision', String(minRevision));
  const reply = await nc().request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000, headers: h });
  return { body: reply.json<Record<string, any>>(), errorCode: reply.headers?.get('Nats-Service-Error-Code') ?? '' };
}

/** What an operator does to start over: removes the buckets (their streams) while no node runs. */
async function deleteBuckets(connection: NatsConnection, buckets: TestBuckets): Promise<void> {
  const manager = await connection.jetstreamManager();
  for (const bucket of Object.values(buckets)) await manager.streams.delete(`KV_${bucket}`);
}

describe('revision reset', () => {
  it('answers revision_unknown with the bucket revision for a Tether-Min-Revision above it, and changes nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('ahead');
    await session.defineVariable('x', 'integer', 1);
    const last = await bucketLastRevision(nc(), buckets.variablesBucket);
    const wanted = last + 1000;

    const reply = await rawWithMinRevision('tether.v1.session.ahead.var.set', { name: 'x', value: 2 }, wanted);
    expect(reply.errorCode).toBe('412');
    expect(reply.body.error).toMatchObject({
      code: 'revision_unknown',
      details: { bucket: buckets.variablesBucket, minRevision: wanted, currentRevision: last },
    });
    expect(reply.body.error.message).toContain(`revision ${wanted} is above the last revision ${last}`);
    expect(reply.body.error.message).toContain('re-created or its JetStream storage reset');
    expect(await session.getVariable('x')).toBe(1);
    // A revision the bucket has reached is still served as before.
    const served = await rawWithMinRevision('tether.v1.session.ahead.var.get', { name: 'x' }, last);
    expect(served.body.result).toMatchObject({ value: 1, version: 1 });
  });

  it('lets a client that saw a high revision carry on once the buckets are deleted and a new node creates them', async () => {
    const buckets = fx().buckets();
    const first = await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('reset');
    await session.defineVariable('x', 'integer', 0);
    for (let i = 1; i <= 20; i++) await session.setVariable('x', i);
    const seen = client.revision;
    expect(seen).toBeGreaterThanOrEqual(21);

    await first.stop();
    await deleteBuckets(nc(), buckets);
    await fx().node(buckets);

    // Each request asks for the old revision first; the node's refusal hands the client the new bucket's.
    const again = await client.session('reset');
    await again.defineVariable('x', 'integer', 7);
    expect(await again.getVariable('x')).toBe(7);
    expect(client.revision).toBeLessThan(seen);
    expect(client.revision).toBe(await bucketLastRevision(nc(), buckets.variablesBucket));
  });

  it('throws a second revision_unknown in a row to the caller, having sent the revision the first one gave', async () => {
    // A stand-in for a node whose bucket keeps being reset: it answers the open, then refuses every other request.
    const prefix = `reset_${process.pid}_${Date.now()}`;
    const asked: (string | undefined)[] = [];
    const refusal = new RevisionUnknownError('tether_vars', 50, 3);
    const responder = nc().subscribe(`${prefix}.v1.session.>`, {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) {
          msg.respond(enc.encode(JSON.stringify({ result: {}, revision: 50 })));
          return;
        }
        asked.push(msg.headers?.get('Tether-Min-Revision'));
        const h = headers();
        h.set('Nats-Service-Error-Code', '412');
        h.set('Nats-Service-Error', `revision_unknown: ${refusal.message}`);
        msg.respond(enc.encode(JSON.stringify({ error: refusal.toJSON(), revision: 3 })), { headers: h });
      },
    });
    await nc().flush();
    try {
      const client = await fx().client({ prefix });
      const session = await client.session('twice');
      expect(client.revision).toBe(50);
      const failure = await session.getVariable('x').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RevisionUnknownError);
      expect(asked).toEqual(['50', '3']);
      expect(client.revision).toBe(3);
    } finally {
      responder.unsubscribe();
    }
  });
});

// This test stops and restarts its own server; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('revision reset of the whole JetStream storage', () => {
  it('lets a long-lived client carry on when the server comes back with empty storage and the node restarts', async () => {
    let server = await startNatsServer();
    const port = Number(new URL(server.url).port);
    const nats = { servers: server.url, reconnect: { waitMs: 100 } };
    let node = await Runtime.start({ nats, onError: () => {} });
    const statuses: NatsConnectionStatus[] = [];
    const client = await connect({
      ...nats,
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
    });
    try {
      const session = await client.session('s');
      await session.defineVariable('x', 'integer', 0);
      for (let i = 1; i <= 20; i++) await session.setVariable('x', i);
      const seen = client.revision;

      await node.stop();
      await server.stop();
      server = await startNatsServer({ port });
      node = await Runtime.start({ nats, onError: () => {} });
      // A request sent while the client is still away could be lost with the old server: wait until it is back.
      await waitFor(() => statuses.includes('reconnected'), { message: 'the client reconnects' });

      const again = await client.session('s');
      await again.defineVariable('x', 'integer', 0);
      expect(await again.getVariable('x')).toBe(0);
      expect(client.revision).toBeLessThan(seen);
    } finally {
      await client.close();
      await node.stop();
      await server.stop();
    }
  });
});
