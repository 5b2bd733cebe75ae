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

  it('holds at most its size: full, it drops the keys that lapsed first, then the oldest', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const keys = new ExpiringKeys(3);
    for (const key of ['a', 'b', 'c', 'd']) keys.add(key, 2_000_000);
    expect(keys.size).toBe(3);
    expect(keys.take('a')).toBe(false);
    expect(keys.take('d')).toBe(true);
    // Lifetimes of their own: 'brief' lapses behind keys that do not.
    keys.add('brief', 1_000_001);
    vi.setSystemTime(1_000_002);
    keys.add('e', 2_000_000);
    expect(keys.size).toBe(3);
    expect([keys.take('brief'), keys.take('b'), keys.take('c'), keys.take('e')]).toEqual([false, true, true, true]);
  });

  it('holds a key until its time, that included', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const keys = new ExpiringKeys();
    keys.add('now', 1_000_000);
    expect(keys.take('now')).toBe(true);
  });
});
