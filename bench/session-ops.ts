/**
 * getVariable / setVariable through a session process against a plain Map, measured in the same run.
 * Goals (issue 2): getVariable p50 < 5 µs (DSPex's in-process target), setVariable p50 < 50 µs.
 *
 * Also setVariable with the process asleep for 1 ms before each write: the NATS benches write once per round trip,
 * so their figures count Tether's code at that cost, not at the back-to-back one.
 * @module
 */
import { Runtime } from '../src/index.js';
import { compareLine, fmt, sample, sampleAfterIdle } from './stats.js';

/** Writes timed after an idle wait: each costs a timer's wait too. */
const IDLE_SAMPLES = 3000;

/** Runs the benchmark and returns its report lines. */
export async function benchSessionOps(count = 50_000): Promise<string[]> {
  const runtime = await Runtime.start();
  const session = await runtime.session('bench');
  await session.defineVariable('temperature', 'float', 0.5, { constraints: { min: 0, max: 2 } });
  const map = new Map<string, number>([['temperature', 0.5]]);
  let i = 0;

  const rawGet = await sample(() => map.get('temperature'), count);
  const ourGet = await sample(() => session.getVariable('temperature'), count);
  const rawSet = await sample(() => map.set('temperature', (i++ % 100) / 100), count);
  const ourSet = await sample(() => session.setVariable('temperature', (i++ % 100) / 100), count);
  // A node's write in the NATS benches follows a wait on the network: the same write after the process slept.
  const idleSet = await sampleAfterIdle(() => session.setVariable('temperature', (i++ % 100) / 100), IDLE_SAMPLES, 1);
  await runtime.stop();

  return [
    `Session variables (${count.toLocaleString('en-US')} sequential ops each, embedded memory store)`,
    compareLine('getVariable', ourGet, rawGet, 'Map.get'),
    compareLine('setVariable', ourSet, rawSet, 'Map.set'),
    `  goals: getVariable p50 < 5 µs: ${ourGet.p50 < 5 ? 'met' : 'MISSED'}; setVariable p50 < 50 µs: ${ourSet.p50 < 50 ? 'met' : 'MISSED'}`,
    `  setVariable after 1 ms idle (${IDLE_SAMPLES.toLocaleString('en-US')} ops): p50 ${fmt(idleSet.p50)} µs, ` +
      `${fmt(idleSet.p50 / ourSet.p50)}× back to back: the same code run after the process slept (caches and ` +
      'CPU gone cold), as each write of the sequential NATS benches runs after its round trip',
  ];
}
