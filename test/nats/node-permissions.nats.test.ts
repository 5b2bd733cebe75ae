/**
 * A node whose NATS user may not subscribe to its request subjects cannot take any request: nats.js closes the whole
 * service when one endpoint's subscription is refused. Its start fails, saying so, rather than announcing a node
 * that answers nothing (found in review: `tether serve` said it was serving, and clients found no node). So does a
 * node refused the other subscriptions it needs: the other nodes' control messages, its execution outcome questions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime } from '../../src/index.js';
import { answerPingsWhileDraining } from '../../src/nats/draining-pings.js';
import { connectNats } from '../../src/nats/connection-options.js';
import { runCliProcess } from '../support/cli-process.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The users of the server: `node` may not take requests, `noctl` may not hear the other nodes, nor `nonode` be asked,
 * nor `nosrv` be pinged.
 */
const users = (lateDeny: readonly string[] = []): string =>
  [
    'authorization { users: [',
    '  { user: node, password: p, permissions: { subscribe: { deny: ["tether.v1.session.>"] } } }',
    '  { user: noctl, password: p, permissions: { subscribe: { deny: ["tether.v1.control.>"] } } }',
    '  { user: nomod, password: p, permissions: { subscribe: { deny: ["tether.v1.control.*.module.>"] } } }',
    '  { user: nonode, password: p, permissions: { subscribe: { deny: ["tether.v1.node.>"] } } }',
    '  { user: nosrv, password: p, permissions: { subscribe: { deny: ["$SRV.>"] } } }',
    `  { user: late, password: p, permissions: { subscribe: { deny: ${JSON.stringify(lateDeny)} } } }`,
    '] }',
  ].join('\n');

let server: NatsTestServer;
let port: string;
beforeAll(async () => {
  server = await startNatsServer({ monitor: true, config: users() });
  port = new URL(server.url).port;
});
afterAll(() => server?.stop());

/** The names of the connections the server has open. */
async function connectionNames(): Promise<(string | undefined)[]> {
  const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
  return (connz.connections ?? []).map((connection) => connection.name);
}

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
    expect(await connectionNames()).not.toContain('refused-node');
  });

  it('makes `tether serve` exit 3 with one line, never saying it serves', async () => {
    const run = await runCliProcess(['serve'], { NATS_URL: `nats://node:p@127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stdout).not.toMatch(/node serving/);
    expect(run.stderr).toMatch(/^tether: nats_unreachable: cannot start a node on NATS at [^\n]*Permissions Violation/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 30_000);
});

// Found in an audit: a node refused `$SRV.>` said it was serving, answered requests, and never answered a ping, so
// every execution on it longer than a few seconds failed with node_lost while the node ran on. nats.js takes the
// refusal for none of its service's subscriptions (it matches the server's error to a subscription by queue, and
// its `$SRV` subscriptions have the queue '' where the error has none), so the service never closed.
describe('a node that may not subscribe to its service subjects ($SRV)', () => {
  it('fails its start with nats_connection naming the refused $SRV subject, and leaves no connection open', async () => {
    const told: unknown[] = [];
    const error = await Runtime.start({
      onError: (failure) => told.push(failure),
      nats: { servers: `nats://127.0.0.1:${port}`, user: 'nosrv', pass: 'p', name: 'refused-nosrv' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'refused' });
    expect((error as NatsConnectionError).details.subject).toMatch(/^\$SRV\./);
    expect((error as Error).message).toContain('service subscriptions');
    expect((error as Error).message).toMatch(/must be allowed to subscribe to 'tether\.>' and '\$SRV\.>'/);
    expect(told).toEqual([]);
    await waitFor(async () => !(await connectionNames()).includes('refused-nosrv'), { message: 'connection closed' });
  });

  it('makes `tether serve` exit 3 with one line, never saying it serves', async () => {
    const run = await runCliProcess(['serve'], { NATS_URL: `nats://nosrv:p@127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stdout).not.toMatch(/node serving/);
    expect(run.stderr).toMatch(/^tether: nats_unreachable: cannot start a node on NATS at .*"\$SRV\./);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 30_000);

  // Found in the same audit: `tether serve` stopping said "answering pings while draining: msg.respond is not a
  // function", the refusal of the subscription that answers its pings while it drains handed on as a message.
  it('tells onError the refusal, typed, when the pings a stopping node answers are refused', async () => {
    const connection = await connectNats({ servers: `nats://127.0.0.1:${port}`, user: 'nosrv', pass: 'p' });
    try {
      const service = await connection.services.add({ name: 'tether', version: '0.0.0' });
      const told: { error: unknown; where: string }[] = [];
      answerPingsWhileDraining(connection, service, 'node-1', (error, where) => told.push({ error, where }));
      await connection.flush();
      await waitFor(() => told.length > 0, { message: 'the refusal told' });
      expect(told).toEqual([
        {
          error: expect.objectContaining({
            code: 'nats_connection',
            status: 'refused',
            details: expect.objectContaining({ subject: '$SRV.PING.tether.node-1' }),
          }) as unknown,
          where: 'nats',
        },
      ]);
    } finally {
      await connection.close();
    }
  });
});

// Found by a review: a node refused `tether.v1.control.>` started, and went on acknowledging writes to a session
// another node had deleted (it never heard the end), with two untyped errors to onError.
describe('a node that may not subscribe to what the other nodes tell it', () => {
  it.each([
    ['noctl', 'tether.v1.control.*.session.end', 'session control'],
    ['nomod', 'tether.v1.control.*.module.*.*', 'module control'],
    ['nonode', /^tether\.v1\.node\.[^.]+\.\*\.module\.\*\.outcome$/, 'execution outcome'],
  ])(
    'fails its start with nats_connection naming the refused subject when user %s starts it',
    async (user, subject, what) => {
      const told: unknown[] = [];
      const error = await Runtime.start({
        onError: (failure) => told.push(failure),
        nats: { servers: `nats://127.0.0.1:${port}`, user, pass: 'p', name: `refused-${user}` },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ code: 'nats_connection', status: 'refused', details: { subject } });
      expect((error as Error).message).toContain(what);
      expect((error as Error).message).toMatch(/must be allowed to subscribe to 'tether\.>' and '\$SRV\.>'/);
      // Said once, by the start: nothing runs to tell onError anything.
      expect(told).toEqual([]);
      // The server's monitoring sees a closed connection go a moment later.
      await waitFor(async () => !(await connectionNames()).includes(`refused-${user}`), {
        message: 'connection closed',
      });
    },
  );

  it('makes `tether serve` exit 3 with one line naming the refused subject', async () => {
    const run = await runCliProcess(['serve'], { NATS_URL: `nats://noctl:p@127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stdout).not.toMatch(/node serving/);
    expect(run.stderr).toMatch(/^tether: nats_unreachable: cannot start a node on NATS at .*"tether\.v1\.control\.\*/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 30_000);

  it('tells onError a nats_connection naming the subject when the server refuses it later', async () => {
    const told: { error: unknown; where: string }[] = [];
    const runtime = await Runtime.start({
      onError: (error, where) => told.push({ error, where }),
      nats: { servers: `nats://127.0.0.1:${port}`, user: 'late', pass: 'p' },
    });
    try {
      await server.reload!(users(['tether.v1.control.>']));
      await waitFor(() => told.length >= 2, { timeout: 10_000, message: 'two refusals told' });
      const refused = (subject: string) => ({
        error: expect.objectContaining({
          code: 'nats_connection',
          status: 'refused',
          details: expect.objectContaining({ subject }),
        }) as unknown,
        where: 'nats',
      });
      // One typed report per refused subscription, nothing raw.
      expect(told).toEqual(
        expect.arrayContaining([refused('tether.v1.control.*.session.end'), refused('tether.v1.control.*.module.*.*')]),
      );
      expect(told).toHaveLength(2);
    } finally {
      await runtime.stop();
      await server.reload!(users());
    }
  }, 30_000);
});
