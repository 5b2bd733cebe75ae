import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkSpecsUntilDone } from '../../src/nats/spec-checks.js';

describe('checks of module processes once the connection is back', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('go on, further and further apart, until every process was checked', async () => {
    const left = [3, 1, 0];
    const check = vi.fn(async () => left.shift()!);
    const done = checkSpecsUntilDone(
      check,
      () => true,
      () => {},
    );

    await vi.advanceTimersByTimeAsync(0);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(check).toHaveBeenCalledTimes(3);
  });

  it('stop once no longer wanted (the connection dropped again, the node stops)', async () => {
    let wanted = true;
    const check = vi.fn(async () => 2);
    const done = checkSpecsUntilDone(
      check,
      () => wanted,
      () => {},
    );
    await vi.advanceTimersByTimeAsync(0);
    wanted = false;
    await vi.advanceTimersByTimeAsync(500);
    await done;
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('report once when some stay unchecked for half a minute, and go on', async () => {
    const reported: Error[] = [];
    let unchecked = 4;
    const check = vi.fn(async () => unchecked);
    const done = checkSpecsUntilDone(
      check,
      () => true,
      (error) => void reported.push(error),
    );

    await vi.advanceTimersByTimeAsync(29_000);
    expect(reported).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.message).toMatch(/^4 module process\(es\) could not be checked against the modules bucket/);
    unchecked = 0;
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(reported).toHaveLength(1);
  });
});
