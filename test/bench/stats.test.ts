/** bench/stats.ts: the percentiles every bench line prints, by nearest rank (one rank too high before review). */
import { describe, expect, it } from 'vitest';
import { sampleAfterIdle, summarize } from '../../bench/stats.js';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('summarize percentiles', () => {
  it('p99 of 100 samples is the 99th smallest, not the maximum', () => {
    // Nearest rank: the ceil(0.99 × 100) = 99th value.
    expect(summarize(oneTo(100), 0).p99).toBe(99);
  });

  it('p50 of 100 samples is the 50th smallest (nearest rank), not the 51st', () => {
    expect(summarize(oneTo(100), 0).p50).toBe(50);
  });

  it('p50 of two samples is not the larger one', () => {
    expect(summarize([10, 20], 0).p50).toBeLessThan(20);
  });
});

describe('sampleAfterIdle', () => {
  it('runs the operation once per sample, each after the process waited the idle time', async () => {
    const calls: number[] = [];
    const result = await sampleAfterIdle(() => calls.push(performance.now()), 5, 10);
    expect(calls).toHaveLength(5);
    // A timer never fires early, but Node may round its delay down by up to a millisecond.
    for (let i = 1; i < calls.length; i++) expect(calls[i]! - calls[i - 1]!).toBeGreaterThanOrEqual(9);
    expect(Number.isFinite(result.p50)).toBe(true);
  });

  it('rates the operation by its own time, not by the idle waits between runs', async () => {
    // Five instant runs, each after 20 ms of idling: counting the idle time made the rate about 50 ops/s.
    const result = await sampleAfterIdle(() => undefined, 5, 20);
    expect(result.opsPerSecond).toBeGreaterThan(1000);
  });
});
