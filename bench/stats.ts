/**
 * Timing helpers shared by the benchmarks: per-operation samples, percentiles and aligned report lines.
 * @module
 */

/** Percentiles of a sample set, in microseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly opsPerSecond: number;
}

/** Times `count` sequential runs of `op` (after `warmup` runs) and returns µs percentiles and throughput. */
export async function sample(op: () => unknown, count: number, warmup = Math.min(count, 2000)): Promise<Percentiles> {
  for (let i = 0; i < warmup; i++) await op();
  return timedRuns(op, count);
}

/**
 * As {@link sample}, with the process idle for `idleMs` (a timer, so it sleeps as it does awaiting the network)
 * before each timed run of `op`: what `op` costs once the caches and branch predictors it warmed have gone cold.
 */
export function sampleAfterIdle(op: () => unknown, count: number, idleMs: number): Promise<Percentiles> {
  return timedRuns(op, count, () => new Promise((resolve) => setTimeout(resolve, idleMs)));
}

/**
 * `count` sequential runs of `op`, each timed alone, after `before` when given (untimed). The rate is over the whole
 * loop without `before`; with it, one run per mean sample, as the idle waits are no part of what `op` costs.
 */
async function timedRuns(op: () => unknown, count: number, before?: () => Promise<unknown>): Promise<Percentiles> {
  const samples = new Float64Array(count);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (before) await before();
    const t0 = process.hrtime.bigint();
    await op();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summarize(samples, before ? sequentialRate(samples) : count / totalSeconds);
}

/** Percentiles of already-collected µs samples. */
export function summarize(samples: Float64Array | number[], opsPerSecond: number): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  // Nearest rank: the smallest sample with at least a share q of the samples at or below it.
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), opsPerSecond };
}

/** Operations per second of a side that runs one at a time, from its µs samples: one per mean latency. */
export function sequentialRate(samples: Float64Array): number {
  let total = 0;
  for (const sample of samples) total += sample;
  return (samples.length * 1e6) / total;
}

/** Heap in use after two full collections, in bytes; run with `--expose-gc`, or the figure includes garbage. */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Formats a number of microseconds (or any figure) with sensible precision. */
export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** One line comparing ours against a raw baseline: both p50s, throughputs and the ratio of p50s. */
export function compareLine(label: string, ours: Percentiles, raw: Percentiles, rawLabel: string): string {
  return (
    `${label.padEnd(28)} p50 ${fmt(ours.p50).padStart(8)} µs  p99 ${fmt(ours.p99).padStart(8)} µs  ${fmt(ours.opsPerSecond, 0).padStart(10)} ops/s` +
    `  | ${rawLabel} p50 ${fmt(raw.p50, 3)} µs, ${fmt(raw.opsPerSecond, 0)} ops/s  | ratio ${fmt(ours.p50 / raw.p50, 1)}x (p50), ${fmt(raw.opsPerSecond / ours.opsPerSecond, 1)}x (throughput)`
  );
}

/**
 * Times one run of each side, alternating which goes first (by `i`) so neither side always runs right after the
 * other's garbage or on a warmer cache. Each function returns its own µs figure.
 */
export async function samplePair(
  i: number,
  raw: () => Promise<number>,
  ours: () => Promise<number>,
): Promise<[number, number]> {
  if (i % 2 === 0) {
    const r = await raw();
    return [r, await ours()];
  }
  const o = await ours();
  return [await raw(), o];
}
