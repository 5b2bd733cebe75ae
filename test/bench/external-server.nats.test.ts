/**
 * The NATS benches on an external server (`NATS_URL`): their nodes and clients use a subject prefix of the run's
 * own, so another Tether deployment on that server neither serves their requests nor is served by them, and every
 * bucket they open has the run's id in its name, so the run deletes them all at its end (found in review: they used
 * Tether's default prefix and modules bucket, and left every bucket behind, 100,000 session records among them).
 */
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { deleteBuckets } from '../../bench/nats.js';
import { benchRoutingRate } from '../../bench/nats-routing-rate.js';
import { benchSessionListing } from '../../bench/nats-session-listing.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function streamNames(): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const names: string[] = [];
    for await (const info of (await nc.jetstreamManager()).streams.list()) names.push(info.config.name);
    return names.sort();
  } finally {
    await nc.close();
  }
}

const targetOf = (id: string) => ({ url: server.url, id, prefix: `bench_${id}` });

describe('the NATS benches on an external server', () => {
  it("opens only buckets named with the run's id, and deletes them all at the end", async () => {
    const before = await streamNames();
    const target = targetOf('leak1');
    await benchRoutingRate(target, 128, 1);
    await benchSessionListing(target, 50);
    const opened = (await streamNames()).filter((name) => !before.includes(name));
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.filter((name) => !name.includes(target.id))).toEqual([]);

    await deleteBuckets(server.url, target.id);
    expect(await streamNames()).toEqual(before);
  }, 60_000);

  it('is served by its own node, not by another Tether node on the server', async () => {
    // Another user of the same server on Tether's default prefix: a deployment, say.
    const other = await Runtime.start({ onError: () => {}, nats: { servers: server.url, name: 'other-deployment' } });
    try {
      const session = await other.session('someone-elses-session');
      await session.defineVariable('x', 'integer', 1);
      // 8 pages, each of which must come from the bench's node and bucket: the bench throws when the counts differ.
      await expect(benchSessionListing(targetOf('shared1'), 8000)).resolves.toContainEqual(
        expect.stringContaining('8,000 sessions'),
      );
    } finally {
      await other.stop();
    }
  }, 60_000);
});
