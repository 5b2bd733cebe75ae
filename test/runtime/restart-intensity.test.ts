import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { RestartIntensity } from '../../src/runtime/restart-intensity.js';

describe('RestartIntensity', () => {
  it('allows maxRestarts restarts within the window and refuses the next one', () => {
    const intensity = new RestartIntensity({ maxRestarts: 3, maxSeconds: 5 });
    expect([0, 1000, 2000].map((at) => intensity.record(at))).toEqual([true, true, true]);
    expect(intensity.record(3000)).toBe(false);
  });

  it('forgets restarts older than maxSeconds', () => {
    const intensity = new RestartIntensity({ maxRestarts: 1, maxSeconds: 5 });
    expect(intensity.record(0)).toBe(true);
    expect(intensity.record(5001)).toBe(true);
    expect(intensity.record(6000)).toBe(false);
  });

  // Found by mutation: the edge was left out of the window, where OTP (supervisor.erl's add_restart) keeps it in.
  it('counts a restart made exactly maxSeconds ago as within the window, as OTP does', () => {
    const intensity = new RestartIntensity({ maxRestarts: 1, maxSeconds: 5 });
    expect(intensity.record(0)).toBe(true);
    expect(intensity.record(5000)).toBe(false);
  });

  it('defaults to 3 restarts in 5 seconds, and maxRestarts 0 forbids restarting', () => {
    const defaults = new RestartIntensity();
    expect([defaults.maxRestarts, defaults.maxSeconds]).toEqual([3, 5]);
    expect(new RestartIntensity({ maxRestarts: 0 }).record(0)).toBe(false);
  });

  it('refuses limits that could never be reached, naming the option', () => {
    for (const maxRestarts of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, '3' as unknown as number]) {
      expect(() => new RestartIntensity({ maxRestarts })).toThrow(ValidationError);
      expect(() => new RestartIntensity({ maxRestarts })).toThrow(/'maxRestarts' must be a whole number ≥ 0/);
    }
    for (const maxSeconds of [Number.NaN, Number.POSITIVE_INFINITY, 0, -5]) {
      expect(() => new RestartIntensity({ maxSeconds })).toThrow(/'maxSeconds' must be a finite number > 0/);
    }
  });
});
