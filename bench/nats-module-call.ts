/**
 * (b) Remote module execute round trip (client → node → module process → reply) on the offline model, against a
 * raw NATS request/reply to a responder that echoes a body of the same size. The same module's embedded
 * `execute` (no NATS) is timed too, so the report shows how much of the remote figure is the module itself.
 * All three run interleaved, so machine noise hits them alike.
 * Goal (issue 4): p50 ≤ 1.5× raw.
 * @module
 */
import { connect as natsConnect } from 'nats';
import { Runtime, connect, createEchoModel } from '../src/index.js';
import type { NatsBenchTarget } from './nats-propagation.js';
import { compareLine, fmt, samplePair, summarize } from './stats.js';

const GOAL = 1.5;
const SPEC = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 'temperature' },
} as const;
const INPUTS = { question: 'How long does a remote execution take?' };

/** Times one call in µs. */
async function timed(op: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

/** Runs the comparison and returns its report lines. */
export async function benchModuleCall(target: NatsBenchTarget, count = 2000, warmup = 300): Promise<string[]> {
  const node = await Runtime.start({
    onError: () => {},
    // The offline model whatever the environment says: the bench measures Tether, not a provider.
    llm: createEchoModel(),
    nats: {
      servers: target.url,
      variablesBucket: `bench_call_vars_${target.id}`,
      sessionsBucket: `bench_call_sessions_${target.id}`,
      name: 'bench-node',
    },
  });
  const client = await connect({ servers: target.url, name: 'bench-client', onError: () => {} });
  const remote = await client.session('bench');
  await remote.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  const remoteModule = await remote.module('qa', SPEC);
  // The same process the node runs for remote calls, called in-process.
  const localModule = await (await node.session('bench')).module('qa');

  // The raw side: a responder echoing the request, on its own connection, with a body the size of ours.
  const responderConnection = await natsConnect({
    servers: target.url,
    name: 'bench-raw-responder',
    noAsyncTraces: true,
  });
  const requester = await natsConnect({ servers: target.url, name: 'bench-raw-requester', noAsyncTraces: true });
  const responder = responderConnection.subscribe('bench.echo', { callback: (_error, msg) => msg.respond(msg.data) });
  await responderConnection.flush();
  const body = new TextEncoder().encode(
    JSON.stringify({ inputs: INPUTS, executionId: crypto.randomUUID(), timeoutMs: 120_000, revision: 1 }),
  );

  const ours = () => timed(() => remoteModule.execute(INPUTS));
  const raw = () => timed(() => requester.request('bench.echo', body, { timeout: 5000 }));
  const embedded = () => timed(() => localModule.execute(INPUTS));
  for (let i = 0; i < warmup; i++) {
    await raw();
    await ours();
    await embedded();
  }
  const rawSamples = new Float64Array(count);
  const ourSamples = new Float64Array(count);
  const embeddedSamples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    [rawSamples[i], ourSamples[i]] = await samplePair(i, raw, ours);
    embeddedSamples[i] = await embedded();
  }

  responder.unsubscribe();
  await Promise.all([responderConnection.close(), requester.close(), client.close()]);
  await node.stop();

  const rate = (samples: Float64Array) => (samples.length * 1e6) / samples.reduce((a, b) => a + b, 0);
  const rawP = summarize(rawSamples, rate(rawSamples));
  const ourP = summarize(ourSamples, rate(ourSamples));
  const embeddedP = summarize(embeddedSamples, rate(embeddedSamples));
  const ratio = ourP.p50 / rawP.p50;
  return [
    `(b) remote module execute on the offline model (${count.toLocaleString('en-US')} sequential calls, interleaved with raw)`,
    compareLine('remote execute round trip', ourP, rawP, 'request/reply echo'),
    `  goal p50 ≤ ${GOAL}× raw: ${ratio <= GOAL ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×; p99 ${(ourP.p99 / rawP.p99).toFixed(2)}×)`,
    `  where it goes: the same module's embedded execute (no NATS) p50 ${fmt(embeddedP.p50)} µs, p99 ${fmt(embeddedP.p99)} µs;` +
      ` remote − embedded − raw p50 ≈ ${fmt(ourP.p50 - embeddedP.p50 - rawP.p50)} µs of NATS service path`,
    `  transport alone: (remote − embedded) / raw = ${((ourP.p50 - embeddedP.p50) / rawP.p50).toFixed(2)}× (the offline model's own execute is` +
      ` ${(embeddedP.p50 / rawP.p50).toFixed(1)}× a raw round trip, so the headline goal cannot be met by the transport)`,
  ];
}
