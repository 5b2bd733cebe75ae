import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, subscribeEvents, type TetherEvent } from '../../src/index.js';
import { tieSockets } from '../support/tcp-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/**
 * A proxy to `targetUrl` that drops its first connection as soon as the client subscribes (the SUB and the flush's
 * PING leave together): the server never confirms the subscription on it. Later connections pass.
 */
async function dropAtFirstSubscribe(targetUrl: string) {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    const first = connections === 0;
    connections += 1;
    const upstream = tcpConnect(Number(target.port), target.hostname);
    tieSockets(client, upstream, sockets);
    client.on('data', (chunk: Buffer) => {
      if (first && chunk.includes('SUB ')) return void client.destroy();
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    connections: () => connections,
    open: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('subscribeEvents whose connection drops before the server confirmed the subscription', () => {
  it('rejects with a typed NatsConnectionError and leaves no connection behind that still hands events on', async () => {
    const proxy = await dropAtFirstSubscribe(fx().server.url);
    onTestFinished(() => proxy.close());
    const events: TetherEvent[] = [];
    const started = subscribeEvents(
      { servers: proxy.url, reconnect: { waitMs: 20 }, onError: () => {} },
      (event) => void events.push(event),
    );
    const error = await started.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'disconnected' });
    // Before the fix, nats.js went on reconnecting the connection the caller never got, and its listener heard this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    nc().publish('tether.v1.events.s.var.x', '{"n":1}');
    await nc().flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toEqual([]);
    expect(proxy.connections()).toBe(1);
    expect(proxy.open()).toBe(0);
  });
});
