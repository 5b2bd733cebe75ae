/**
 * A TCP proxy in front of a NATS server that can be cut and restored (as tcp-proxy.ts) and that holds back, on their
 * way to the server, the client's publishes whose subject a test picks, while everything else passes at once: a node
 * behind it whose JetStream API requests of one kind (a consumer's creation, say) go unanswered, as they may while a
 * server of the cluster is down, while it serves requests on time. It parses just enough of the client's protocol
 * (`PUB`, `HPUB`) to find the subjects.
 * @module
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { frameSplitter } from './nats-frames.js';
import { tieSockets } from './tcp-proxy.js';

/** A running proxy. */
export interface HoldingProxy {
  /** The URL to connect through, e.g. `nats://127.0.0.1:40123`. */
  readonly url: string;
  /** From now on, picked publishes wait until {@link HoldingProxy.release}. */
  hold(): void;
  /** Sends the held publishes on in order and lets picked ones through at once again. */
  release(): void;
  /** Drops every connection through the proxy (and what they held) and refuses new ones until `restore`. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** One connection's client-to-server side: frames in, picked ones held while holding, the others written at once. */
function relay(upstream: Socket, picked: (subject: string) => boolean, holding: () => boolean) {
  const held: Buffer[] = [];
  return {
    data: frameSplitter(['PUB', 'HPUB'], (frame, subject) => {
      // Behind a held frame, a picked one waits its turn.
      if (subject !== undefined && picked(subject) && (holding() || held.length > 0)) held.push(frame);
      else if (!upstream.destroyed) upstream.write(frame);
    }),
    release(): void {
      for (const frame of held.splice(0)) if (!upstream.destroyed) upstream.write(frame);
    },
  };
}

/**
 * Starts a proxy on a random loopback port forwarding to the host and port of `targetUrl`; `picked` chooses the
 * subjects of the publishes it holds back (none, until {@link HoldingProxy.hold}).
 * @example
 * const proxy = await startHoldingProxy(server.url, (subject) => subject.startsWith('$JS.API.CONSUMER.CREATE.'));
 * proxy.hold(); // a node connected through it creates no consumer until `release()`
 */
export async function startHoldingProxy(
  targetUrl: string,
  picked: (subject: string) => boolean,
): Promise<HoldingProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const relays = new Set<ReturnType<typeof relay>>();
  let holding = false;
  let cut = false;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    const relayed = relay(upstream, picked, () => holding);
    relays.add(relayed);
    tieSockets(client, upstream, sockets, () => relays.delete(relayed));
    client.on('data', (chunk: Buffer) => relayed.data(chunk));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    relays.clear();
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const relayed of relays) relayed.release();
    },
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
