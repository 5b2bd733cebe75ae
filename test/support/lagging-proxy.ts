/**
 * A TCP proxy in front of a NATS server that holds back, on their way to the client, the messages whose subject a
 * test picks, while everything else (requests, replies, pings) passes at once: a node behind it hears of some
 * writes late, as a node of a NATS cluster may, while it serves requests on time. Held messages keep their order
 * among themselves. It parses just enough of the server's protocol (`MSG`, `HMSG`) to find the subjects.
 * @module
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { frameSplitter } from './nats-frames.js';
import { tieSockets } from './tcp-proxy.js';

/** A running proxy. */
export interface LaggingProxy {
  /** The URL to connect through, e.g. `nats://127.0.0.1:40123`. */
  readonly url: string;
  /** From now on, picked messages reach the client `ms` after they reached the proxy (0: at once). */
  lag(ms: number): void;
  /** From now on, picked messages wait until {@link LaggingProxy.release}. */
  hold(): void;
  /** Delivers the held messages in order and lets picked ones through at once again. */
  release(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** One connection's server-to-client side: frames in, picked ones queued, the others written at once. */
function relay(client: Socket, picked: (subject: string) => boolean, delayOf: () => number | 'hold') {
  /** Picked frames not yet written, oldest first, each with the time it is due (`undefined` while held). */
  const queue: { frame: Buffer; due: number | undefined }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due !== undefined && queue[0]!.due <= now) {
      if (!client.destroyed) client.write(queue.shift()!.frame);
      else queue.shift();
    }
    const next = queue[0]?.due;
    if (next !== undefined) timer = setTimeout(flush, next - now);
  };

  return {
    data: frameSplitter(['MSG', 'HMSG'], (frame, subject) => {
      // Behind a held or delayed frame, a picked one waits its turn even when it is due at once.
      if (subject !== undefined && picked(subject)) {
        const delay = delayOf();
        queue.push({ frame, due: delay === 'hold' ? undefined : Date.now() + delay });
        flush();
      } else if (!client.destroyed) client.write(frame);
    }),
    release(): void {
      const now = Date.now();
      for (const item of queue) item.due ??= now;
      flush();
    },
    stop(): void {
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a proxy on a random loopback port forwarding to the host and port of `targetUrl`; `picked` chooses the
 * subjects it holds back (none, until {@link LaggingProxy.lag} or {@link LaggingProxy.hold}).
 * @example
 * const proxy = await startLaggingProxy(server.url, (subject) => subject.startsWith('$KV.tether_modules.'));
 * proxy.lag(300); // a node connected through it sees the modules bucket 300 ms late
 */
export async function startLaggingProxy(
  targetUrl: string,
  picked: (subject: string) => boolean,
): Promise<LaggingProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const relays = new Set<ReturnType<typeof relay>>();
  let delay: number | 'hold' = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const relayed = relay(client, picked, () => delay);
    relays.add(relayed);
    tieSockets(client, upstream, sockets, () => {
      relayed.stop();
      relays.delete(relayed);
    });
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => relayed.data(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    lag(ms) {
      delay = ms;
    },
    hold() {
      delay = 'hold';
    },
    release() {
      delay = 0;
      for (const relayed of relays) relayed.release();
    },
    async close() {
      for (const relayed of relays) relayed.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
