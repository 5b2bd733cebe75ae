/**
 * A node whose NATS user may not publish its events (`tether.v1.events.>`) or its control messages
 * (`tether.v1.control.>`). Was: the server dropped every one of them, saying so only on the connection (a status
 * nats.js hands out), which the node never read: writes succeeded, every watcher and `subscribeEvents` elsewhere
 * heard nothing, for good, and nobody was told. Now: each refused subject reaches `onError` once as
 * `nats_connection` (`refused`) naming it, however many messages the server drops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({
    config: [
      'authorization { users: [',
      '  { user: quiet, password: p, permissions: { publish: { deny: ["tether.v1.events.>", "tether.v1.control.>"] } } }',
      '] }',
    ].join('\n'),
  });
});
afterAll(() => server?.stop());

describe('a node refused the publishing of its events and control messages', () => {
  it('tells onError once per refused subject, naming it, instead of dropping every message silently', async () => {
    const refused: string[] = [];
    const runtime = await Runtime.start({
      onError: (error) => {
        if (error instanceof NatsConnectionError && error.status === 'refused')
          refused.push(String(error.details.subject));
      },
      nats: { servers: server.url, user: 'quiet', pass: 'p' },
    });
    try {
      const session = await runtime.session('s1');
      await session.defineVariable('x', 'integer', 1);
      for (let value = 2; value <= 5; value += 1) await session.setVariable('x', value);
      // Told in the order refused: once y's refusal is told, each of x's has been seen.
      await session.defineVariable('y', 'integer', 1);
      await waitFor(() => refused.includes('tether.v1.events.s1.var.y'), { message: "y's refusal told" });
      expect(refused.filter((subject) => subject === 'tether.v1.events.s1.var.x')).toHaveLength(1);

      await session.delete();
      await waitFor(() => refused.includes('tether.v1.control.s1.session.end'), { message: "the end's refusal told" });
    } finally {
      await runtime.stop();
    }
  }, 20_000);
});
