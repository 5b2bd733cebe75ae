import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStopGrace, settlesInGrace } from '../../src/nats/stop-grace.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('createStopGrace', () => {
  it('ends every wait of a stop at the moment the first one set', () => {
    const grace = createStopGrace(6_000);
    // The held replies, the oldest due at 1000: until 7000.
    expect(grace.until(1_000)).toBe(7_000);
    // The last stamps, due later in the same stop: no grace of their own.
    expect(grace.until(5_000)).toBe(7_000);
    expect(grace.ms).toBe(6_000);
  });

  it('ends every wait at the moment set by the earliest due, whichever asked first', () => {
    const grace = createStopGrace(6_000);
    // The stop's drain, at 5000; then the held replies, the oldest due at 1000, before the stop.
    expect(grace.until(5_000)).toBe(11_000);
    expect(grace.until(1_000)).toBe(7_000);
    // The last stamps, later: the same moment.
    expect(grace.until(8_000)).toBe(7_000);
  });
});

describe('settlesInGrace', () => {
  it('gives up on work that never settles once the grace runs out', async () => {
    vi.useFakeTimers();
    const grace = createStopGrace(6_000);
    const waiting = settlesInGrace(new Promise(() => {}), grace);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(await waiting).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves when the work settles, failed or not, and leaves no timer', async () => {
    vi.useFakeTimers();
    const grace = createStopGrace(6_000);
    expect(await settlesInGrace(Promise.resolve(), grace)).toBe(true);
    expect(await settlesInGrace(Promise.reject(new Error('refused')), grace)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
