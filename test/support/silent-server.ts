/**
 * A TCP server that takes every connection and never says a word: what a NATS that hangs looks like to a client
 * connecting to it (a blocked process, a port something else holds).
 * @module
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';

/** A running silent server. */
export interface SilentServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** How many connections it has taken. */
  readonly connections: () => number;
  /** How many of them are still open: the client has not closed them. */
  readonly open: () => number;
  /** Drops its connections and stops listening. */
  close(): Promise<void>;
}

/** Starts a silent server on a random loopback port. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let taken = 0;
  const server = createServer((socket) => {
    taken += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that closes its end may reset it: nothing to tell.
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    connections: () => taken,
    open: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
