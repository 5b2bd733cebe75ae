/**
 * A connect given up on a server that takes the connection and never answers (a hung nats-server, a port another
 * program holds) closes its socket: the caller holds nothing to close, and the socket kept the process alive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, connect, subscribeEvents } from '../../src/index.js';
import { startSilentServer, type SilentServer } from '../support/silent-server.js';
import { waitFor } from '../support/wait-for.js';

const servers: SilentServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A silent server closed after the test. */
async function silentServer(): Promise<SilentServer> {
  const server = await startSilentServer();
  servers.push(server);
  return server;
}

// Found by a review: nats.js 2.29 closed the transport of a timed-out connect only once connected, which it never was.
describe('closing-transport', () => {
  it('closes the socket of a connect() that timed out', async () => {
    const silent = await silentServer();
    await expect(connect({ servers: silent.url, connectTimeoutMs: 300 })).rejects.toMatchObject({
      code: 'nats_connection',
    });
    expect(silent.connections()).toBe(1);
    await waitFor(() => silent.open() === 0, { message: 'the client socket closed' });
  });

  it('closes the socket of a Runtime.start({ nats }) that timed out connecting', async () => {
    const silent = await silentServer();
    await expect(
      Runtime.start({ nats: { servers: silent.url, connectTimeoutMs: 300, prefix: 'silent' } }),
    ).rejects.toMatchObject({ code: 'nats_connection' });
    expect(silent.connections()).toBe(1);
    await waitFor(() => silent.open() === 0, { message: 'the node socket closed' });
  });

  it('closes the socket of a subscribeEvents() that timed out connecting', async () => {
    const silent = await silentServer();
    await expect(subscribeEvents({ servers: silent.url, connectTimeoutMs: 300 }, () => {})).rejects.toMatchObject({
      code: 'nats_connection',
    });
    expect(silent.connections()).toBe(1);
    await waitFor(() => silent.open() === 0, { message: 'the subscriber socket closed' });
  });
});
