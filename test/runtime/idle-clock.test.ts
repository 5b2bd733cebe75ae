import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleClock } from '../../src/runtime/idle-clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('IdleClock', () => {
  it('reports each key idle for its own time, at every sweep until touched or forgotten', () => {
    vi.useFakeTimers();
    const idle: string[] = [];
    const clock = new IdleClock<string>((key) => idle.push(key));
    clock.touch('short', 100);
    clock.touch('long', 1000);

    vi.advanceTimersByTime(125);
    expect(new Set(idle)).toEqual(new Set(['short']));
    expect(clock.idleFor('short')).toBe(125);

    clock.touch('short', 100);
    idle.length = 0;
    vi.advanceTimersByTime(75);
    expect(idle).toEqual([]);

    // Without the short key the sweeps slow down to a quarter of the long one's time: 'long', due at 1000 ms, is
    // reported once or twice by 1,500 ms, where the short key's 25 ms period would have reported it a dozen times.
    clock.forget('short');
    idle.length = 0;
    vi.advanceTimersByTime(1300);
    expect(idle.length).toBeGreaterThan(0);
    expect(idle.length).toBeLessThanOrEqual(2);
    expect(idle.every((key) => key === 'long')).toBe(true);
    expect(clock.idleFor('short')).toBe(0);
  });

  // Found by mutation: a key idle for exactly its time waited a sweep more.
  it('reports a key at the first sweep where it has been idle for its whole time', () => {
    vi.useFakeTimers();
    const idle: string[] = [];
    const clock = new IdleClock<string>((key) => idle.push(key));
    clock.touch('k', 100);
    vi.advanceTimersByTime(99);
    expect(idle).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(idle).toEqual(['k']);
    clock.stop();
  });

  it('goes on with the other keys when the handler throws for one', () => {
    vi.useFakeTimers();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const idle: string[] = [];
    const clock = new IdleClock<string>((key) => {
      if (key === 'bad') throw new Error('handler failed');
      idle.push(key);
    });
    clock.touch('bad', 20);
    clock.touch('good', 20);

    vi.advanceTimersByTime(25);
    expect(new Set(idle)).toEqual(new Set(['good']));
    expect(errors).toHaveBeenCalled();
    errors.mockRestore();
  });

  it('reports nothing once stopped', () => {
    vi.useFakeTimers();
    const idle: string[] = [];
    const clock = new IdleClock<string>((key) => idle.push(key));
    clock.touch('a', 20);
    clock.stop();
    clock.touch('b', 20);
    vi.advanceTimersByTime(1000);
    expect(idle).toEqual([]);
  });

  // Idle times are subtracted from wall-clock times a node stamps on a session's record: on the monotonic clock's
  // fractions, a NATS node's expiry of a session's next life went wrong (CI caught it).
  it('counts whole milliseconds', async () => {
    const clock = new IdleClock<string>(() => {});
    clock.touch('a', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3));
    expect(Number.isInteger(clock.idleFor('a'))).toBe(true);
    expect(clock.idleFor('a')).toBeGreaterThan(0);
    clock.stop();
  });
});
