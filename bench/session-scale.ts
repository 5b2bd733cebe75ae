/**
 * Heap and start time of 100,000 live sessions with two variables each. Run in its own process (with
 * --expose-gc) so that the heap figure is this benchmark's alone: `node --expose-gc --import tsx bench/session-scale.ts`.
 * Goal (issue 2): under 1 GB of heap.
 * @module
 */
import { Runtime } from '../src/index.js';
import { isMainScript } from './own-build.js';
import { fmt, heapUsed } from './stats.js';

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => heapUsed() / 2 ** 20;

/** Starts `count` sessions with two variables each; returns report lines. */
export async function benchSessionScale(count = 100_000): Promise<string[]> {
  const runtime = await Runtime.start();
  const before = heapMb();
  const started = process.hrtime.bigint();
  const batch = 1000;
  for (let first = 0; first < count; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - first) }, async (_, offset) => {
        const session = await runtime.session(`s${first + offset}`);
        await session.defineVariable('temperature', 'float', 0.7);
        await session.defineVariable('model', 'string', 'small');
      }),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const heap = heapMb() - before;
  const live = runtime.sessionIds().length;
  await runtime.stop();
  return [
    `Scale: ${live.toLocaleString('en-US')} live sessions × 2 variables${gc ? '' : ' (no --expose-gc: heap figure includes garbage)'}`,
    `  start time ${fmt(seconds, 1)} s (${fmt((seconds * 1e6) / count, 1)} µs per session incl. 2 defines)` +
      `  heap ${fmt(heap, 0)} MB (${fmt((heap * 1024) / count, 2)} KB per session)` +
      `  | goal < 1024 MB: ${heap < 1024 ? 'met' : 'MISSED'}`,
  ];
}

if (isMainScript(import.meta.url)) {
  for (const line of await benchSessionScale(Number(process.env.SESSIONS ?? 100_000))) console.log(line);
}
