/**
 * A client whose NATS user the server's permissions refuse a subject it needs (a read-only or monitoring account):
 * a request the server will not let through, a watch or an events subscription it will not let subscribe, fail at
 * once with `nats_connection` (`refused`) naming the subject, and change nothing. Before, a refused publish waited
 * out its whole timeout and then said its outcome was unknown, and a refused subscription was reported and then
 * waited for ever on what could never arrive (found in review).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, connect, subscribeEvents, type TetherClient } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
let node: Runtime;
let port: string;
const buckets = {
  variablesBucket: 'perm_vars',
  sessionsBucket: 'perm_sessions',
  modulesBucket: 'perm_modules',
};
const clients: TetherClient[] = [];

beforeAll(async () => {
  server = await startNatsServer({
    monitor: true,
    config: [
      'authorization { users: [',
      '  { user: admin, password: admin }',
      '  { user: ro, password: ro, permissions: {',
      '      publish: { deny: ["tether.v1.session.*.var.set", "tether.v1.session.*.var.get"] },',
      '      subscribe: { deny: ["tether.v1.events.>"] } } }',
      '  { user: noinbox, password: noinbox, permissions: { subscribe: { deny: ["_INBOX.>"] } } }',
      '] }',
    ].join('\n'),
  });
  port = new URL(server.url).port;
  node = await Runtime.start({
    onError: () => {},
    nats: { servers: server.url, user: 'admin', pass: 'admin', ...buckets },
  });
  const session = await node.session('perm-1');
  await session.defineVariable('a', 'integer', 1);
}, 30_000);

afterAll(async () => {
  for (const client of clients) await client.close();
  await node?.stop();
  await server?.stop();
});

/** A client as `user`, whose reports are kept. */
async function clientAs(user: string): Promise<{ client: TetherClient; reports: unknown[] }> {
  const reports: unknown[] = [];
  const client = await connect({
    servers: `nats://127.0.0.1:${port}`,
    user,
    pass: user,
    // Long enough that a request waiting for it would outlast the test.
    timeoutMs: 120_000,
    onError: (error) => void reports.push(error),
  });
  clients.push(client);
  return { client, reports };
}

describe('a request the server refuses to publish', () => {
  it('fails at once with refused, naming the subject, as not applied, and changes nothing', async () => {
    const { client } = await clientAs('ro');
    const session = await client.session('perm-1');
    const error = await session.setVariable('a', 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({
      code: 'nats_connection',
      status: 'refused',
      details: { subject: 'tether.v1.session.perm-1.var.set', operation: 'publish', outcome: 'not_applied' },
    });
    expect((error as Error).message).toMatch(
      /^refused by NATS permissions \(.+\); request to 'tether\.v1\.session\.perm-1\.var\.set' not sent: Permissions Violation for Publish/,
    );
    expect(await (await node.session('perm-1')).getVariable('a')).toBe(1);
  }, 15_000);

  it('fails a read the same way, with no outcome (a read changes nothing), and fails each request in flight', async () => {
    const { client } = await clientAs('ro');
    const session = await client.session('perm-1');
    const errors = await Promise.all([1, 2, 3].map(() => session.getVariable('a').catch((e: unknown) => e)));
    for (const error of errors) {
      expect(error).toMatchObject({ status: 'refused', details: { subject: 'tether.v1.session.perm-1.var.get' } });
      expect((error as NatsConnectionError).details).not.toHaveProperty('outcome');
    }
    // The connection stays up: what the permissions allow still works.
    expect((await session.listVariables()).map((record) => record.name)).toEqual(['a']);
  }, 15_000);

  it('fails at once when the reply inbox is refused, its outcome unknown for a write', async () => {
    const error = await clientAs('noinbox')
      .then(({ client }) => client.session('perm-1'))
      .then((session) => session.setVariable('a', 3))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 'refused', details: { operation: 'subscription' } });
    expect((error as Error).message).toMatch(/can get no reply \(its reply inbox is refused\)/);
  }, 15_000);
});

describe('a subscription the server refuses', () => {
  it("fails a remote watch's start with refused, told once (not also to onError)", async () => {
    const { client, reports } = await clientAs('ro');
    const session = await client.session('perm-1');
    const error = await session.watchVariables('*', () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ status: 'refused', details: { operation: 'subscription' } });
    expect((error as Error).message).toMatch(/watch of '\*' in session 'perm-1' refused: Permissions Violation/);
    expect(reports).toEqual([]);
  }, 15_000);

  it('fails subscribeEvents with refused naming the subject, and closes its connection', async () => {
    const reports: unknown[] = [];
    const error = await subscribeEvents(
      {
        servers: `nats://127.0.0.1:${port}`,
        user: 'ro',
        pass: 'ro',
        name: 'refused-events',
        onError: (e) => void reports.push(e),
      },
      () => {},
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'nats_connection',
      status: 'refused',
      details: { subject: 'tether.v1.events.>', operation: 'subscription' },
    });
    expect(reports).toEqual([]);
    const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
    expect((connz.connections ?? []).map((connection) => connection.name)).not.toContain('refused-events');
  }, 15_000);
});
