/**
 * getVariable / setVariable through a session process against a plain Map, measured in the same run.
 * Goals (issue 2): getVariable p50 < 5 µs (DSPex's in-process target), setVariable p50 < 50 µs.
 * @module
 */
import { Runtime } from '../src/index.js';
import { compareLine, sample } from './stats.js';

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
  await runtime.stop();

  return [
    `Session variables (${count.toLocaleString('en-US')} sequential ops each, embedded memory store)`,
    compareLine('getVariable', ourGet, rawGet, 'Map.get'),
    compareLine('setVariable', ourSet, rawSet, 'Map.set'),
    `  goals: getVariable p50 < 5 µs: ${ourGet.p50 < 5 ? 'met' : 'MISSED'}; setVariable p50 < 50 µs: ${ourSet.p50 < 50 ? 'met' : 'MISSED'}`,
  ];
}
