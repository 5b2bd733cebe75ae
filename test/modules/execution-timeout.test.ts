import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { executionTimeoutMs } from '../../src/modules/execution-timeout.js';

describe('executionTimeoutMs', () => {
  it('takes whole milliseconds as they are, rounds a fraction up, and keeps Infinity', () => {
    expect(executionTimeoutMs('s', 'qa', 30_000)).toBe(30_000);
    expect(executionTimeoutMs('s', 'qa', 0.2)).toBe(1);
    expect(executionTimeoutMs('s', 'qa', 1500.5)).toBe(1501);
    expect(executionTimeoutMs('s', 'qa', 2 ** 31 - 1.5)).toBe(2 ** 31 - 1);
    expect(executionTimeoutMs('s', 'qa', Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses what is not a wait a timer can count, naming the module and the value', () => {
    for (const value of [0, -0, -1, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 31, '5', null, 10n]) {
      expect(() => executionTimeoutMs('s', 'qa', value)).toThrow(ValidationError);
    }
    expect(() => executionTimeoutMs('s', 'qa', '5')).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        message: expect.stringMatching(/^timeoutMs of an execution of module 'qa' .*; got "5"$/),
        details: { field: 'timeoutMs', sessionId: 's', moduleId: 'qa' },
      }),
    );
  });
});
