/**
 * The NATS benchmarks (issue 4), on a nats-server the bench starts itself (or `NATS_URL`): (a) cross-node
 * propagation, (b) remote module execute, (c) routing throughput, and listing every session, each beside its raw
 * `nats` baseline.
 * Without a nats-server this prints one skip line, so the rest of `npm run bench` still runs.
 * @module
 */
import { connect } from 'nats';
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
    // Only a missing binary skips them: a server that is there and fails to start fails the run.
    if (!(error instanceof Error && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')) throw error;
    return [`NATS benchmarks skipped: no nats-server (${error.message.split('\n')[0]})`];
  }
  // Unique bucket names and subjects: on an external server (NATS_URL) an earlier run's keys must not leak into this
  // one, and a deployment's nodes must not answer this run's requests.
  const id = `${process.pid}_${Date.now()}`;
  const target = { url: server.url, id, prefix: `bench_${id}` };
  const lines = [`NATS (nats-server at ${server.url}, loopback; nodes and peers as each benchmark says)`];
  try {
    lines.push(...(await benchPropagation(target)));
    lines.push(...(await benchModuleCall(target)));
    lines.push(...(await benchRoutingRate(target)));
    lines.push(...(await benchSessionListing(target)));
  } finally {
    // Said, not thrown: a failure of the benches themselves is the one to see.
    await deleteBuckets(server.url, id).catch((error: unknown) => console.error(`bench buckets not deleted: ${error}`));
    await server.stop();
  }
  return lines;
}

/**
 * Deletes every bucket whose name has the run's `id`, which every bucket of the run has (its nodes' default buckets
 * through their prefix): an external server keeps none of them, 100,000 session records among them.
 */
export async function deleteBuckets(url: string, id: string): Promise<void> {
  const connection = await connect({ servers: url, name: 'bench-cleanup' });
  try {
    const streams = (await connection.jetstreamManager()).streams;
    const names: string[] = [];
    for await (const info of streams.list()) if (info.config.name.includes(id)) names.push(info.config.name);
    for (const name of names) await streams.delete(name);
  } finally {
    await connection.close();
  }
}
