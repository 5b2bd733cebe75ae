/**
 * A TCP proxy in front of a server whose connections a test can cut: the clients connected through it lose
 * their connection (and cannot make a new one) while the server and every other connection carry on, as when
 * one machine's network goes away for a moment. Plain TCP, so it serves any protocol (NATS here).
 * @module
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** A running proxy. */
export interface CuttableProxy {
  /** The proxy's address in the target's scheme, e.g. `nats://127.0.0.1:41234`: connect the client here. */
  readonly url: string;
  /** Drops every connection through the proxy and refuses new ones until {@link CuttableProxy.restore}. */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free port of 127.0.0.1 forwarding to `targetUrl` (`scheme://host:port`).
 * @example
 * const proxy = await startCuttableProxy(server.url);
 * const client = await connect({ servers: proxy.url, reconnect: { waitMs: 50 } });
 * proxy.cut(); // the client is disconnected; others are not
 * proxy.restore(); // it reconnects at its next attempt
 */
export async function startCuttableProxy(targetUrl: string): Promise<CuttableProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let isCut = false;

  const server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const dropAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    cut() {
      isCut = true;
      dropAll();
    },
    restore() {
      isCut = false;
    },
    async close() {
      isCut = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
