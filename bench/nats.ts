/**
 * The NATS benchmarks (issue 4), on a nats-server the bench starts itself (or `NATS_URL`): (a) cross-node
 * propagation, (b) remote module execute, (c) routing throughput, and listing every session, each beside its raw
 * `nats` baseline.
 * Without a nats-server this prints one skip line, so the rest of `npm run bench` still runs.
 * @module
 */
import { startNatsServer, type NatsTestServer } from '../test/support/nats-server.js';
import { benchModuleCall } from './nats-module-call.js';
import { benchPropagation } from './nats-propagation.js';
import { benchRoutingRate } from './nats-routing-rate.js';
import { benchSessionListing } from './nats-session-listing.js';

/** Runs every NATS benchmark and returns its report lines. */
export async function benchNats(): Promise<string[]> {
  let server: NatsTestServer;
  try {
    server = await startNatsServer();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return [`NATS benchmarks skipped: no nats-server (${reason})`];
  }
  // Unique bucket names: on an external server (NATS_URL) an earlier run's keys must not leak into this one.
  const target = { url: server.url, id: `${process.pid}_${Date.now()}` };
  const lines = [`NATS (nats-server at ${server.url}, loopback; nodes and peers as each benchmark says)`];
  try {
    lines.push(...(await benchPropagation(target)));
    lines.push(...(await benchModuleCall(target)));
    lines.push(...(await benchRoutingRate(target)));
    lines.push(...(await benchSessionListing(target)));
  } finally {
    await server.stop();
  }
  return lines;
}
