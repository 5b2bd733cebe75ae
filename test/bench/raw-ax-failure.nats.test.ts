/**
 * The raw Ax service of bench (b) (bench/peers/module-node.ts) answers a failed program as a service error, which
 * the bench's baseline refuses to time: it answered an ordinary reply with the error's text, and the bench timed it as
 * a (fast) answer (found in review).
 */
import { connect as natsConnect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, type Peer } from '../../bench/peer.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
let peer: Peer;
beforeAll(async () => {
  server = await startNatsServer();
  peer = await startPeer(
    'module-node',
    {
      url: server.url,
      variablesBucket: 'axfail_vars',
      sessionsBucket: 'axfail_sessions',
      modulesBucket: 'axfail_modules',
      rawSubject: 'axfail.echo',
      rawAxSubject: 'axfail.ax',
      signature: 'question:string -> answer:string',
    },
    'process',
  );
}, 30_000);
afterAll(async () => {
  await peer?.stop();
  await server?.stop();
});

describe('raw Ax baseline responder', () => {
  it('a failed raw Ax program does not come back as an ordinary reply the bench would time as a success', async () => {
    const nc = await natsConnect({ servers: server.url });
    try {
      // The program fails (the required input is missing). The baseline must not be able to take this for an answer.
      const body = new TextEncoder().encode(JSON.stringify({ inputs: {}, temperature: 0.7 }));
      const outcome = await nc.request('axfail.ax', body, { timeout: 5000 }).then(
        (msg) => ({ ok: true as const, text: msg.string(), errorHeader: msg.headers?.get('Nats-Service-Error') }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      expect(outcome.ok === false || Boolean(outcome.errorHeader)).toBe(true);
    } finally {
      await nc.close();
    }
  }, 30_000);
});
