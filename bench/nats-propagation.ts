/**
 * (a) Cross-node propagation: `setVariable` on node A until node B's session process has applied the value and
 * told its watchers (what a module sync on B reads), against a raw KV put on one connection until a `kv.watch`
 * on another connection delivers it. Both sides put the same bytes (an encoded variable record) and run
 * interleaved, alternating which goes first, so machine noise hits both alike.
 * Goal (issue 4): p50 ≤ 1.3× raw.
 * @module
 */
import { connect, KvWatchInclude } from 'nats';
import { Runtime } from '../src/index.js';
import { compareLine, fmt, samplePair, summarize } from './stats.js';

/** What the propagation bench needs: a server and bucket names nobody else uses. */
export interface NatsBenchTarget {
  readonly url: string;
  /** A fresh suffix for bucket names, so repeated runs on an external server never share keys. */
  readonly id: string;
}

const GOAL = 1.3;
const now = (): bigint => process.hrtime.bigint();
const micros = (from: bigint, to: bigint): number => Number(to - from) / 1000;

/** Updates per second of a side that runs one at a time, from its µs samples. */
function sequentialRate(samples: Float64Array): number {
  let total = 0;
  for (const sample of samples) total += sample;
  return (samples.length * 1e6) / total;
}

/** A promise resolved from outside: one per awaited delivery. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Runs the comparison and returns its report lines. */
export async function benchPropagation(target: NatsBenchTarget, count = 3000, warmup = 300): Promise<string[]> {
  const nats = {
    servers: target.url,
    variablesBucket: `bench_vars_${target.id}`,
    sessionsBucket: `bench_sessions_${target.id}`,
  };
  const silent = { onError: () => {} };
  const nodeA = await Runtime.start({ ...silent, nats: { ...nats, name: 'bench-node-a' } });
  const nodeB = await Runtime.start({ ...silent, nats: { ...nats, name: 'bench-node-b' } });
  const writer = await nodeA.session('bench');
  await writer.defineVariable('temperature', 'float', 0, { constraints: { min: 0, max: 1_000_000 } });
  const reader = await nodeB.session('bench');
  // B may not have routed the definition yet; its watcher must start from a known version.
  while (!(await reader.hasVariable('temperature'))) await new Promise((r) => setTimeout(r, 1));

  // Resolved when B's watcher sees the version an iteration waits for; stamped inside the listener.
  let waitingFor = 0;
  let seen = deferred<bigint>();
  const unwatch = await reader.watchVariables('temperature', (change) => {
    if (change.version === waitingFor) seen.resolve(now());
  });
  let version = (await writer.describeVariable('temperature')).version;
  let acked = 0;
  const ours = async (): Promise<number> => {
    waitingFor = ++version;
    seen = deferred<bigint>();
    const t0 = now();
    await writer.setVariable('temperature', version);
    acked = micros(t0, now());
    return micros(t0, await seen.promise);
  };

  // The raw side: the same record bytes, put on one connection and watched on another.
  const payload = new TextEncoder().encode(JSON.stringify(await writer.describeVariable('temperature')));
  const putter = await connect({ servers: target.url, name: 'bench-raw-put', noAsyncTraces: true });
  const watcher = await connect({ servers: target.url, name: 'bench-raw-watch', noAsyncTraces: true });
  const rawBucket = `bench_raw_${target.id}`;
  const putKv = await putter.jetstream().views.kv(rawBucket, { history: 64 });
  const watchKv = await watcher.jetstream().views.kv(rawBucket);
  let rawSeen = deferred<bigint>();
  let rawWaitingFor = 0;
  let lastRevision = 0;
  const entries = await watchKv.watch({ key: 'bench.temperature', include: KvWatchInclude.UpdatesOnly });
  const pump = (async () => {
    for await (const entry of entries) if (entry.revision >= rawWaitingFor) rawSeen.resolve(now());
  })();
  const raw = async (): Promise<number> => {
    rawSeen = deferred<bigint>();
    const t0 = now();
    lastRevision = rawWaitingFor = await putKv.put('bench.temperature', payload);
    return micros(t0, await rawSeen.promise);
  };
  // Not a baseline, an explanation: what a session's write does on the wire, one put conditioned on the
  // revision it last saw.
  const rawCasPut = async (): Promise<number> => {
    rawSeen = deferred<bigint>();
    const t0 = now();
    lastRevision = rawWaitingFor = await putKv.put(
      'bench.temperature',
      payload,
      lastRevision > 0 ? { previousSeq: lastRevision } : {},
    );
    return micros(t0, await rawSeen.promise);
  };

  for (let i = 0; i < warmup; i++) {
    await raw();
    await ours();
  }
  const rawSamples = new Float64Array(count);
  const ourSamples = new Float64Array(count);
  const ackSamples = new Float64Array(count);
  const casPutSamples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    [rawSamples[i], ourSamples[i]] = await samplePair(i, raw, ours);
    ackSamples[i] = acked;
    casPutSamples[i] = await rawCasPut();
  }

  unwatch();
  entries.stop();
  await pump;
  await Promise.all([putter.close(), watcher.close()]);
  await nodeA.stop();
  await nodeB.stop();

  // The sides share one loop, so each one's rate is its own sequential rate: one update per mean latency.
  const rawP = summarize(rawSamples, sequentialRate(rawSamples));
  const ourP = summarize(ourSamples, sequentialRate(ourSamples));
  const ratio = ourP.p50 / rawP.p50;
  return [
    `(a) setVariable on node A → seen by node B's session (${count.toLocaleString('en-US')} sequential updates, interleaved with raw)`,
    compareLine('setVariable A → B watch', ourP, rawP, 'KV put → kv.watch'),
    `  goal p50 ≤ ${GOAL}× raw: ${ratio <= GOAL ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×; p99 ${(ourP.p99 / rawP.p99).toFixed(2)}×)`,
    `  where it goes: setVariable resolved on A p50 ${fmt(summarize(ackSamples, 0).p50)} µs (one compare-and-set publish, then the` +
      ` reply through A's session process); raw CAS put → watch p50 ${fmt(summarize(casPutSamples, 0).p50)} µs; both nodes share this one thread`,
  ];
}
