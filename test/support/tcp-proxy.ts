/**
 * A TCP proxy in front of a NATS server whose link can be cut and restored, so that one node loses its
 * connection while the server and every other node go on: what a network blip does, which restarting the
 * server (as the outage tests do) cannot show.
 * @module
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** The URL to connect through, e.g. `nats://127.0.0.1:40123`. */
  readonly url: string;
  /** Drops every connection through the proxy and refuses new ones until {@link TcpProxy.restore}. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a random loopback port forwarding to the host and port of `targetUrl`.
 * @example
 * const proxy = await startTcpProxy(server.url);
 * const node = await Runtime.start({ nats: { servers: proxy.url } });
 * proxy.cut(); // the node is offline; the server is not
 */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    tieSockets(client, upstream, sockets);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    cut() {
      cut = true;
      dropAll();
    },
    restore() {
      cut = false;
    },
    async close() {
      cut = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Ties a proxied client socket to its upstream socket: either one closing or failing ends both (after `onEnd`),
 * and both leave `sockets`, the set a proxy destroys when it cuts or closes.
 */
export function tieSockets(client: Socket, upstream: Socket, sockets: Set<Socket>, onEnd?: () => void): void {
  sockets.add(client).add(upstream);
  const end = (): void => {
    onEnd?.();
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
}
