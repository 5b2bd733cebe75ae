/**
 * (b) Remote module execute round trip (client → node → module process → reply) on the offline model, against a
 * raw NATS request/reply to a responder that echoes a body of the same size. The node and the raw responder
 * share a process of their own (as deployed), the client and the raw requester run here, interleaved so that
 * machine noise hits both alike. Then the same with the node in this process. The module's embedded `execute`
 * (no NATS) is timed in the node's process, so the report shows how much of the remote figure is the module.
 * Goal (issue 4): p50 ≤ 1.5× raw.
 *
 * A second baseline is what a user would write without Tether: a raw NATS request to a responder (in the node's
 * process too) that runs the same signature's Ax program on the same model and answers its output. Ours against
 * it is everything Tether adds to a remote execution: actors, variable sync, events, the service and the client.
 * @module
 */
import { connect as natsConnect } from 'nats';
import { connect } from '../src/index.js';
import type { NatsBenchTarget } from './nats-propagation.js';
import { startPeer, type PeerPlacement } from './peer.js';
import { compareLine, fmt, samplePair, sequentialRate, summarize, type Percentiles } from './stats.js';

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

interface CallRun {
  readonly ours: Percentiles;
  readonly raw: Percentiles;
  /** A raw NATS request to a responder running the raw Ax program (no Tether). */
  readonly rawAx: Percentiles;
  readonly embedded: Percentiles;
}

/** One interleaved run with the node placed as `placement` says. */
async function moduleCall(
  target: NatsBenchTarget,
  placement: PeerPlacement,
  count: number,
  warmup: number,
): Promise<CallRun> {
  const id = `${target.id}_${placement}`;
  const rawSubject = `bench.echo.${placement}`;
  const rawAxSubject = `bench.ax.${placement}`;
  // Whatever started is stopped again, also when the run fails (a peer process left running would hang the bench).
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const node = await startPeer(
      'module-node',
      {
        url: target.url,
        prefix: target.prefix,
        variablesBucket: `bench_call_vars_${id}`,
        sessionsBucket: `bench_call_sessions_${id}`,
        modulesBucket: `bench_call_modules_${id}`,
        rawSubject,
        rawAxSubject,
        signature: SPEC.signature,
      },
      placement,
    );
    cleanups.unshift(() => node.stop());
    const client = await connect({
      servers: target.url,
      prefix: target.prefix,
      name: 'bench-client',
      onError: () => {},
    });
    cleanups.unshift(() => client.close());
    const remote = await client.session('bench');
    await remote.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
    const remoteModule = await remote.module('qa', SPEC);
    const requester = await natsConnect({ servers: target.url, name: 'bench-raw-requester', noAsyncTraces: true });
    cleanups.unshift(() => requester.close());
    const body = new TextEncoder().encode(
      JSON.stringify({ inputs: INPUTS, executionId: crypto.randomUUID(), revision: 1 }),
    );

    const ours = () => timed(() => remoteModule.execute(INPUTS));
    const raw = () => timed(() => requester.request(rawSubject, body, { timeout: 5000 }));
    const axBody = new TextEncoder().encode(JSON.stringify({ inputs: INPUTS, temperature: 0.7 }));
    const rawAx = () =>
      timed(async () => {
        const reply = await requester.request(rawAxSubject, axBody, { timeout: 5000 });
        const failure = reply.headers?.get('Nats-Service-Error');
        // Timed as a baseline only when the program answered.
        if (failure) throw new Error(`the raw Ax service failed: ${failure}`);
      });
    for (let i = 0; i < warmup; i++) {
      await raw();
      await ours();
      await rawAx();
    }
    const rawSamples = new Float64Array(count);
    const ourSamples = new Float64Array(count);
    const rawAxSamples = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      [rawSamples[i], ourSamples[i]] = await samplePair(i, raw, ours);
      rawAxSamples[i] = await rawAx();
    }

    const embeddedReply = node.next('embedded');
    node.send({ kind: 'embedded', sessionId: 'bench', moduleId: 'qa', inputs: INPUTS, count, warmup });
    const embedded = (await embeddedReply).figures as Percentiles;
    return {
      ours: summarize(ourSamples, sequentialRate(ourSamples)),
      raw: summarize(rawSamples, sequentialRate(rawSamples)),
      rawAx: summarize(rawAxSamples, sequentialRate(rawAxSamples)),
      embedded,
    };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

/**
 * What the goal leaves room for: a hand-written service running the same Ax program is the floor of any service
 * running it, so when that floor is over the goal, no remote execution of the program can meet it on this machine.
 */
function floorLine(floor: number): string {
  const verdict =
    floor > GOAL ? `over the goal: a service running this program is not expected to meet it here` : 'under the goal';
  return `  the floor: the same Ax program behind a hand-written NATS service is ${floor.toFixed(2)}× raw, ${verdict}`;
}

/** Runs the comparison, the node in its own process and then in this one, and returns the report lines. */
export async function benchModuleCall(target: NatsBenchTarget, count = 2000, warmup = 300): Promise<string[]> {
  const apart = await moduleCall(target, 'process', count, warmup);
  const together = await moduleCall(target, 'inline', count, warmup);
  const ratio = apart.ours.p50 / apart.raw.p50;
  const { ours, raw, rawAx, embedded } = apart;
  return [
    `(b) remote module execute on the offline model (${count.toLocaleString('en-US')} sequential calls, interleaved with raw)`,
    `  the node and the raw responder in a process of their own (as deployed):`,
    compareLine('remote execute round trip', ours, raw, 'request/reply echo'),
    `  goal p50 ≤ ${GOAL}× raw: ${ratio <= GOAL ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×; p99 ${(ours.p99 / raw.p99).toFixed(2)}×)`,
    floorLine(rawAx.p50 / raw.p50),
    `  where it goes: the module's embedded execute in the node's process, back to back (no NATS, warm caches)` +
      ` p50 ${fmt(embedded.p50)} µs, p99 ${fmt(embedded.p99)} µs; remote − embedded − raw p50 ≈` +
      ` ${fmt(ours.p50 - embedded.p50 - raw.p50)} µs: the NATS service path, and the same execute run cold after each` +
      ` network wake-up`,
    `  (remote − embedded) / raw = ${((ours.p50 - embedded.p50) / raw.p50).toFixed(2)}× (the warm execute is` +
      ` ${(embedded.p50 / raw.p50).toFixed(1)}× a raw round trip)`,
    compareLine('remote execute round trip', ours, rawAx, 'raw NATS + raw Ax service'),
    `  everything Tether adds to a remote execution (actors, sync, events, service, client): p50` +
      ` ${fmt(ours.p50 - rawAx.p50)} µs over a hand-written service running the same Ax program`,
    `  the node, the client and both raw connections in this one process (one thread for all of it):`,
    compareLine('remote execute round trip', together.ours, together.raw, 'request/reply echo'),
  ];
}
