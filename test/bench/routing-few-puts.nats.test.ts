/**
 * benchRoutingRate with fewer puts than the 64 variables it writes round-robin: the variables no put reached were
 * waited on for their "last version", so a short run (as a reviewer runs one) stalled 20 s and failed with "no last
 * update" (found in review).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchRoutingRate } from '../../bench/nats-routing-rate.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('benchRoutingRate with fewer puts than variables', () => {
  it('reports every put routed instead of waiting for variables no put reached', async () => {
    const lines = await benchRoutingRate({ url: server.url, id: `few_${process.pid}`, prefix: 'bench_few' }, 10, 1);
    expect(lines.join('\n')).toMatch(/\(10 seen;/);
  }, 30_000);
});
