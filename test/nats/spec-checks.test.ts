import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SpecChecks } from '../../src/nats/spec-checks.js';

describe('checks of module processes against the modules bucket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('go on, further and further apart, until every process was checked', async () => {
    const left = [3, 1, 0];
    const check = vi.fn(async () => left.shift()!);
    new SpecChecks(
      check,
      () => true,
      () => {},
    ).request();

    await vi.advanceTimersByTimeAsync(0);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(check).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(check).toHaveBeenCalledTimes(3);
  });

  it('stop once no longer wanted (the connection dropped again, the node stops)', async () => {
    let wanted = true;
    const check = vi.fn(async () => 2);
    new SpecChecks(
      check,
      () => wanted,
      () => {},
    ).request();
    await vi.advanceTimersByTimeAsync(0);
    wanted = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('run one series at a time: asked for meanwhile, it makes one more pass at once', async () => {
    let answer: ((left: number) => void) | undefined;
    const check = vi.fn(() => new Promise<number>((resolve) => (answer = resolve)));
    const checks = new SpecChecks(
      check,
      () => true,
      () => {},
    );
    checks.request();
    checks.request();
    checks.request();
    await vi.advanceTimersByTimeAsync(0);
    expect(check).toHaveBeenCalledTimes(1);

    answer!(0);
    await vi.advanceTimersByTimeAsync(0);
    // Asked again during the pass: one more, not one per request, and no wait before it.
    expect(check).toHaveBeenCalledTimes(2);
    answer!(1);
    await vi.advanceTimersByTimeAsync(100);
    checks.request();
    await vi.advanceTimersByTimeAsync(0);
    // Asked during the wait: the wait ends.
    expect(check).toHaveBeenCalledTimes(3);
    answer!(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(check).toHaveBeenCalledTimes(3);
  });

  it('report once when some stay unchecked for half a minute, counting the passes themselves', async () => {
    const reported: Error[] = [];
    // Each pass takes 20 s (a bucket whose reads wait out an election): the second one ends past 30 s.
    const check = vi.fn(() => new Promise<number>((resolve) => setTimeout(() => resolve(4), 20_000)));
    new SpecChecks(
      check,
      () => true,
      (error) => void reported.push(error),
    ).request();

    await vi.advanceTimersByTimeAsync(20_000);
    expect(reported).toEqual([]);
    await vi.advanceTimersByTimeAsync(20_500);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.message).toMatch(/^4 module process\(es\) could not be checked against the modules bucket/);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reported).toHaveLength(1);
  });
});
