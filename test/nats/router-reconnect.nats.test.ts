import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, connect, createEchoModel, type NatsConnectionStatus } from '../../src/index.js';
import { startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const id = `${process.pid}_${Date.now()}`;
const buckets = {
  variablesBucket: `rr_vars_${id}`,
  sessionsBucket: `rr_sessions_${id}`,
  modulesBucket: `rr_modules_${id}`,
};
// Short reconnect waits: the nodes are back within ~100 ms of the server, so what follows measures the router.
const reconnect = { waitMs: 100 };

/** A node on the shared buckets, with its own prefix so a client can address it alone; connection news kept. */
async function startNode(url: string, name: string) {
  const statuses: NatsConnectionStatus[] = [];
  const prefix = `rr_${name}_${id}`;
  const runtime = await Runtime.start({
    llm: createEchoModel(),
    onError: (error) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
    nats: { servers: url, prefix, ...buckets, reconnect },
  });
  return { runtime, statuses, prefix };
}

// Restarts its own server in place; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('router reconnect', () => {
  it('routes another node’s writes and serves read-your-writes right after NATS restarts', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'tether-router-'));
    let server = await startNatsServer({ storeDir });
    const port = Number(new URL(server.url).port);
    const a = await startNode(server.url, 'a');
    const b = await startNode(server.url, 'b');
    const clientStatuses: NatsConnectionStatus[] = [];
    // Addresses node B alone: only B serves this prefix.
    const client = await connect({
      servers: server.url,
      prefix: b.prefix,
      reconnect,
      onError: (error) => {
        if (error instanceof NatsConnectionError) clientStatuses.push(error.status);
      },
    });
    try {
      const onA = await a.runtime.session('s');
      await onA.defineVariable('x', 'integer', 0);
      await onA.defineVariable('y', 'integer', 0);
      const onB = await b.runtime.session('s');
      const remote = await client.session('s');
      expect(await onB.getVariable('y')).toBe(0);

      await server.stop();
      await waitFor(() => a.statuses.includes('disconnected') && b.statuses.includes('disconnected'), {
        message: 'the nodes see the outage',
      });
      server = await startNatsServer({ storeDir, port });
      await waitFor(
        () => [a.statuses, b.statuses, clientStatuses].every((statuses) => statuses.includes('reconnected')),
        { timeout: 5000, message: 'the nodes and the client reconnect' },
      );

      // nats.js alone recreates the router's consumer only after two missed 5 s heartbeats (~13 s): these bounds
      // hold only when the router resumes with the connection.
      await onA.setVariable('x', 1);
      await waitFor(async () => (await onB.getVariable('x')) === 1, {
        timeout: 5000,
        interval: 50,
        message: "node B's session sees node A's write",
      });
      await onA.setVariable('x', 2);
      // The client's write through B comes after A's: reading at its revision needs B to have routed A's write.
      await remote.setVariable('y', 1);
      expect(client.revision).toBeGreaterThan(0);
      expect(await remote.getVariable('x')).toBe(2);
    } finally {
      await client.close();
      await Promise.allSettled([a.runtime.stop(), b.runtime.stop()]);
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  }, 30_000);
});
