import { describe, expect, it } from 'vitest';
import { createStopGrace } from '../../src/nats/stop-grace.js';

describe('createStopGrace', () => {
  it('ends every wait of a stop at the moment the first one set', () => {
    const grace = createStopGrace(6_000);
    // The held replies, the oldest due at 1000: until 7000.
    expect(grace.until(1_000)).toBe(7_000);
    // The last stamps, due later in the same stop: no grace of their own.
    expect(grace.until(5_000)).toBe(7_000);
    expect(grace.ms).toBe(6_000);
  });
});
