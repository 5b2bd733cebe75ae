/**
 * A node whose NATS user may not subscribe to its request subjects cannot take any request: nats.js closes the whole
 * service when one endpoint's subscription is refused. Its start fails, saying so, rather than announcing a node
 * that answers nothing (found in review: `tether serve` said it was serving, and clients found no node).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime } from '../../src/index.js';
import { runCliProcess } from '../support/cli-process.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
let port: string;
beforeAll(async () => {
  server = await startNatsServer({
    monitor: true,
    config: [
      'authorization { users: [',
      '  { user: node, password: p, permissions: { subscribe: { deny: ["tether.v1.session.>"] } } }',
      '] }',
    ].join('\n'),
  });
  port = new URL(server.url).port;
});
afterAll(() => server?.stop());

describe('a node that may not subscribe to its request subjects', () => {
  it('fails its start with nats_connection naming the refused subscription, and leaves no connection open', async () => {
    const error = await Runtime.start({
      onError: () => {},
      nats: { servers: `nats://127.0.0.1:${port}`, user: 'node', pass: 'p', name: 'refused-node' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'refused' });
    expect((error as Error).message).toMatch(/Permissions Violation for Subscription to "tether\.v1\.session\./);
    expect((error as Error).message).toMatch(/must be allowed to subscribe to 'tether\.>' and '\$SRV\.>'/);
    const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
    expect((connz.connections ?? []).map((connection) => connection.name)).not.toContain('refused-node');
  });

  it('makes `tether serve` exit 3 with one line, never saying it serves', async () => {
    const run = await runCliProcess(['serve'], { NATS_URL: `nats://node:p@127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stdout).not.toMatch(/node serving/);
    expect(run.stderr).toMatch(/^tether: nats_unreachable: cannot start a node on NATS at [^\n]*Permissions Violation/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 30_000);
});
