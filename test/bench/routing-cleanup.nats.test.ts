/**
 * benchRoutingRate closes its writer connection when a pass fails: left open, it went on reconnecting once
 * bench/nats.ts stopped the server, and held the failing run up (found in review).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchRoutingRate } from '../../bench/nats-routing-rate.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({ monitor: true });
});
afterAll(async () => {
  await server?.stop();
});

async function connectionNames(): Promise<string[]> {
  const response = await fetch(`${server.monitorUrl}/connz`);
  const body = (await response.json()) as { connections?: { name?: string }[] };
  return (body.connections ?? []).map((c) => c.name ?? '');
}

describe('benchRoutingRate when a pass fails', () => {
  it('closes every connection it opened', async () => {
    // A pass that fails: the first pass's node cannot start on this bucket name.
    await expect(benchRoutingRate({ url: server.url, id: 'no such id', prefix: 'bench' }, 64, 1)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect(await connectionNames()).not.toContain('bench-rate-writer');
  }, 30_000);
});
