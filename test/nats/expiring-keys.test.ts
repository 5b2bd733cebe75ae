import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExpiringKeys } from '../../src/nats/expiring-keys.js';

afterEach(() => vi.useRealTimers());

describe('a node memory of expiring keys', () => {
  it('holds a key until its own time, and forgets it once taken', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const keys = new ExpiringKeys();
    keys.add('soon', 1_000_500);
    keys.add('later', 1_060_000);
    vi.setSystemTime(1_001_000);
    expect(keys.take('soon')).toBe(false);
    expect(keys.take('later')).toBe(true);
    // What it guards happens once: taken, it is gone.
    expect(keys.take('later')).toBe(false);
    expect(keys.take('never added')).toBe(false);
  });

  it('holds at most its size, the oldest going first, and sweeps lapsed keys as others come', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const keys = new ExpiringKeys(3);
    for (const key of ['a', 'b', 'c', 'd']) keys.add(key, 2_000_000);
    expect(keys.size).toBe(3);
    expect(keys.take('a')).toBe(false);
    expect(keys.take('d')).toBe(true);
    keys.add('brief', 1_000_001);
    vi.setSystemTime(1_000_002);
    // Full, the oldest ('b') goes; 'brief' has lapsed behind a key that has not, so it stays until taken.
    keys.add('e', 2_000_000);
    expect(keys.size).toBe(3);
    expect(keys.take('b')).toBe(false);
    expect([keys.take('c'), keys.take('brief'), keys.take('e')]).toEqual([true, false, true]);
  });
});
