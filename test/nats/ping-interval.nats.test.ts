/**
 * `pingIntervalMs`: a server that stops answering and leaves the connection open (SIGSTOP here; a frozen VM or a
 * network path gone silent alike) says nothing to a client but through its missing pongs. nats.js pings every 2
 * minutes by default, so a node, a client or `tether events` noticed only after 4 to 6 minutes; with a shorter
 * interval they drop the connection, report it, and are back once the server is.
 */
import { connect as connectNats } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, Runtime, connect, createEchoModel, type NatsConnectionStatus } from '../../src/index.js';
import { startCli } from '../support/cli-process.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const PING_MS = 200;
// Four intervals and more to notice, then a reconnect; generous for a loaded CI machine, and far below the default's.
const NOTICED_WITHIN_MS = 15_000;
const id = `${process.pid}_${Date.now()}`;

/** A server of the test's own, to freeze; thawed and stopped when the test ends. */
async function ownServer(): Promise<NatsTestServer> {
  const server = await startNatsServer();
  onTestFinished(async () => {
    server.signal!('SIGCONT');
    await server.stop();
  });
  return server;
}

/** An `onError` that keeps the connection news it is told, and the list it keeps them in. */
function connectionNews() {
  const statuses: NatsConnectionStatus[] = [];
  const onError = (error: unknown) => {
    if (error instanceof NatsConnectionError) statuses.push(error.status);
  };
  return { statuses, onError };
}

/**
 * Freezes `server` until `statuses` (what the connection of `who` told) say the connection was lost, then thaws it
 * until they say it is back.
 */
async function freezeUntilReconnected(server: NatsTestServer, statuses: readonly NatsConnectionStatus[], who: string) {
  server.signal!('SIGSTOP');
  await waitFor(() => statuses.includes('disconnected'), {
    timeout: NOTICED_WITHIN_MS,
    message: `the ${who} reported its connection lost`,
  });
  server.signal!('SIGCONT');
  await waitFor(() => statuses.includes('reconnected'), {
    timeout: NOTICED_WITHIN_MS,
    message: `the ${who} reported its connection back`,
  });
}

describe('pingIntervalMs: a connection notices a server gone silent', () => {
  it('a node drops its connection to a frozen server after a few intervals, and serves again once it is back', async () => {
    const server = await ownServer();
    const news = connectionNews();
    const prefix = `ping_${id}`;
    const node = await Runtime.start({
      llm: createEchoModel(),
      onError: news.onError,
      nats: {
        servers: server.url,
        prefix,
        variablesBucket: `ping_vars_${id}`,
        sessionsBucket: `ping_sessions_${id}`,
        modulesBucket: `ping_modules_${id}`,
        pingIntervalMs: PING_MS,
        reconnect: { waitMs: 100 },
      },
    });
    onTestFinished(() => node.stop());
    const session = await node.session('s');
    await session.defineVariable('t', 'float', 0.5);

    await freezeUntilReconnected(server, news.statuses, 'node');

    // Served over the wire again: a client on the server reads and writes through the node.
    const client = await connect({ servers: server.url, prefix });
    onTestFinished(() => client.close());
    const remote = await client.session('s');
    await remote.setVariable('t', 0.7);
    expect(await remote.getVariable('t')).toBe(0.7);
    expect(await session.getVariable('t')).toBe(0.7);
  }, 60_000);

  it('a remote client does too, and its calls after the server is back are answered', async () => {
    const server = await ownServer();
    const node = await Runtime.start({
      llm: createEchoModel(),
      onError: () => {},
      nats: {
        servers: server.url,
        prefix: `pingc_${id}`,
        variablesBucket: `pingc_vars_${id}`,
        sessionsBucket: `pingc_sessions_${id}`,
        modulesBucket: `pingc_modules_${id}`,
      },
    });
    onTestFinished(() => node.stop());
    const news = connectionNews();
    const client = await connect({
      servers: server.url,
      prefix: `pingc_${id}`,
      pingIntervalMs: PING_MS,
      reconnect: { waitMs: 100 },
      onError: news.onError,
    });
    onTestFinished(() => client.close());
    const session = await client.session('c');
    await session.defineVariable('n', 'integer', 1);

    await freezeUntilReconnected(server, news.statuses, 'client');
    await session.setVariable('n', 2);
    expect(await session.getVariable('n')).toBe(2);
  }, 60_000);

  it('tether events with TETHER_PING_INTERVAL_MS says the connection was lost, then back, and goes on', async () => {
    const server = await ownServer();
    const events = startCli(['events', '--prefix', `pinge_${id}`], {
      NATS_URL: server.url,
      TETHER_PING_INTERVAL_MS: String(PING_MS),
      TETHER_RECONNECT_WAIT_MS: '100',
    });
    await events.until('stderr', /listening on/);

    server.signal!('SIGSTOP');
    await events.until('stderr', /tether: nats: connection lost/);
    server.signal!('SIGCONT');
    await events.until('stderr', /tether: nats: reconnected/);
    // Its subscription came back with the connection: an event published now is printed.
    const publisher = await connectNats({ servers: server.url });
    onTestFinished(() => publisher.close());
    await waitFor(
      () => {
        publisher.publish(`pinge_${id}.v1.events.s1.var.t`, JSON.stringify({ after: 'freeze' }));
        return events.output.stdout.includes('"after":"freeze"');
      },
      { timeout: 5000, interval: 100, message: 'an event after the freeze' },
    );
    expect((await events.stop('SIGINT')).code).toBe(0);
  }, 60_000);
});
