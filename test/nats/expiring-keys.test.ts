import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExpiringKeys } from '../../src/nats/expiring-keys.js';

afterEach(() => vi.useRealTimers());

describe('a node memory of expiring keys', () => {
  it('holds a key for its own time, and forgets it once taken', () => {
    vi.useFakeTimers();
    const keys = new ExpiringKeys();
    keys.add('soon', 500);
    keys.add('later', 60_000);
    vi.advanceTimersByTime(1000);
    expect(keys.take('soon')).toBe(false);
    expect(keys.take('later')).toBe(true);
    // What it guards happens once: taken, it is gone.
    expect(keys.take('later')).toBe(false);
    expect(keys.take('never added')).toBe(false);
  });

  it('holds at most its size: full, it drops the keys that lapsed first, then the oldest', () => {
    vi.useFakeTimers();
    const keys = new ExpiringKeys(3);
    for (const key of ['a', 'b', 'c', 'd']) keys.add(key, 1_000_000);
    expect(keys.size).toBe(3);
    expect(keys.take('a')).toBe(false);
    expect(keys.take('d')).toBe(true);
    // Lifetimes of their own: 'brief' lapses behind keys that do not.
    keys.add('brief', 1);
    vi.advanceTimersByTime(2);
    keys.add('e', 1_000_000);
    expect(keys.size).toBe(3);
    expect([keys.take('brief'), keys.take('b'), keys.take('c'), keys.take('e')]).toEqual([false, true, true, true]);
  });

  it('holds a key until its time, that included', () => {
    vi.useFakeTimers();
    const keys = new ExpiringKeys();
    keys.add('now', 0);
    expect(keys.take('now')).toBe(true);
  });

  // Found by a review: lifetimes ran on the wall clock, so a clock stepped forward forgot a cancel at once.
  it('holds a key for its own time when the system clock is stepped forward or back', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const keys = new ExpiringKeys();
    keys.add('cancelled early', 60_000);
    keys.add('brief', 1000);
    // NTP steps the wall clock forward two minutes (the monotonic clock does not move): the minute has not passed.
    vi.setSystemTime(Date.now() + 120_000);
    expect(keys.take('cancelled early')).toBe(true);
    // Stepped back an hour, a key still lapses after its own time.
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(1001);
    expect(keys.take('brief')).toBe(false);
  });
});
