/**
 * A connect given up on a server that takes the connection and never answers (a hung nats-server, a port another
 * program holds) closes its socket: the caller holds nothing to close, and the socket kept the process alive.
 */
import { spawn } from 'node:child_process';
import { createConnection, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, connect, subscribeEvents } from '../../src/index.js';
import { startSilentServer, type SilentServer } from '../support/silent-server.js';
import { waitFor } from '../support/wait-for.js';

const servers: SilentServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A silent server closed after the test. */
async function silentServer(): Promise<SilentServer> {
  const server = await startSilentServer();
  servers.push(server);
  return server;
}

/**
 * A port whose SYNs go unanswered, as behind a firewall that drops packets: a listener with a backlog of 1 in a
 * process that never accepts, its queue filled first, so the kernel drops further SYNs and a connect stays opening.
 */
async function unansweredPort(): Promise<number> {
  const listener = `const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n');
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 50);
    });`;
  const child = spawn(process.execPath, ['-e', listener], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (data) => resolve(Number(data))));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fillers = Array.from({ length: 8 }, () => createConnection(port, '127.0.0.1').on('error', () => {}));
  cleanups.push(() => fillers.forEach((socket) => socket.destroy()));
  await waitFor(() => fillers.some((socket) => socket.connecting) && fillers.some((socket) => !socket.connecting), {
    message: "the listener's queue full",
  });
  return port;
}

/** The sockets of this process still open (connecting or connected). */
function openSockets(): Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle): handle is Socket => handle instanceof Socket && !handle.destroyed);
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

  // Found by a review: nats.js keeps an opening socket to itself, so the fix above did not reach it.
  it('closes the socket of a connect() given up before its TCP connection opened', async () => {
    const port = await unansweredPort();
    const before = new Set(openSockets());
    await expect(connect({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 300 })).rejects.toMatchObject({
      code: 'nats_connection',
    });
    expect(openSockets().filter((socket) => !before.has(socket))).toEqual([]);
  });
});
