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
  /**
   * From now on, what the clients send reaches the server `ms` after it reached the proxy (0: at once), in order:
   * a node behind it publishes late, so that what it sends can be lost to a peer cut off meanwhile.
   */
  delayToServer(ms: number): void;
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
  let toServerMs = 0;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    tieSockets(client, upstream, sockets);
    client.on(
      'data',
      delayedWriter(upstream, () => toServerMs),
    );
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
    delayToServer(ms) {
      toServerMs = ms;
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

/**
 * Writes each chunk it is given to `target` `delayOf()` ms later (at once when 0 and nothing waits), in the order
 * given: a chunk due sooner than one before it waits its turn. What a destroyed socket would get is dropped.
 */
function delayedWriter(target: Socket, delayOf: () => number): (chunk: Buffer) => void {
  const queue: { chunk: Buffer; due: number }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (!target.destroyed) target.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
  };
  return (chunk) => {
    const delay = delayOf();
    if (delay === 0 && queue.length === 0) return void (target.destroyed || target.write(chunk));
    queue.push({ chunk, due: Date.now() + delay });
    if (timer === undefined) flush();
  };
}
