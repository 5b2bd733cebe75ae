import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { SETTING_RANGES, checkProgramSettings, checkSetting } from '../../src/modules/setting-limits.js';

describe('setting limits', () => {
  it('accepts every setting at both ends of its range, and unset', () => {
    for (const [setting, range] of Object.entries(SETTING_RANGES)) {
      const name = setting as keyof typeof SETTING_RANGES;
      expect(() => checkSetting(name, range.min), `${setting} min`).not.toThrow();
      expect(() => checkSetting(name, range.max), `${setting} max`).not.toThrow();
      expect(() => checkSetting(name, undefined), `${setting} unset`).not.toThrow();
    }
  });

  it.each([
    ['samples', 1_000_000_000, "module setting 'samples' must be an integer from 1 to 32, got 1000000000"],
    ['samples', -3, "module setting 'samples' must be an integer from 1 to 32, got -3"],
    ['samples', 0, "module setting 'samples' must be an integer from 1 to 32, got 0"],
    ['n', 33, "module setting 'n' must be an integer from 1 to 32, got 33"],
    ['rounds', 2.5, "module setting 'rounds' must be an integer from 1 to 32, got 2.5"],
    ['maxSteps', 1_000_000, "module setting 'maxSteps' must be an integer from 1 to 100, got 1000000"],
    ['maxSteps', 0, "module setting 'maxSteps' must be an integer from 1 to 100, got 0"],
    ['maxRetries', 11, "module setting 'maxRetries' must be an integer from 0 to 10, got 11"],
    ['maxTokens', 0, "module setting 'maxTokens' must be an integer from 1 to 1000000, got 0"],
    ['topK', -1, "module setting 'topK' must be an integer from 0 to 1000, got -1"],
    ['temperature', 2.5, "module setting 'temperature' must be a number from 0 to 2, got 2.5"],
    ['temperature', Number.NaN, "module setting 'temperature' must be a number from 0 to 2, got NaN"],
    ['topP', 1.5, "module setting 'topP' must be a number from 0 to 1, got 1.5"],
    ['presencePenalty', -3, "module setting 'presencePenalty' must be a number from -2 to 2, got -3"],
    ['frequencyPenalty', '1', 'module setting \'frequencyPenalty\' must be a number from -2 to 2, got "1"'],
    ['threshold', Number.POSITIVE_INFINITY, "module setting 'threshold' must be a finite number, got Infinity"],
    ['n', [3], "module setting 'n' must be an integer from 1 to 32, got a list"],
    ['n', null, "module setting 'n' must be an integer from 1 to 32, got null"],
  ] as const)('refuses %s = %s, naming the field, the value and the range', (setting, value, message) => {
    let error: unknown;
    try {
      checkSetting(setting, value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(message);
    expect((error as ValidationError).details).toMatchObject({ field: setting, min: SETTING_RANGES[setting].min });
  });

  it('keeps a value JSON cannot carry readable in the details', () => {
    let error: ValidationError | undefined;
    try {
      checkSetting('temperature', Number.NaN);
    } catch (caught) {
      error = caught as ValidationError;
    }
    expect(JSON.parse(JSON.stringify(error?.details))).toMatchObject({ field: 'temperature', value: 'NaN' });
  });

  it('checks the program settings a spec or an options object holds', () => {
    expect(() => checkProgramSettings({ n: 3, rounds: 2, samples: 32, threshold: -0.5 })).not.toThrow();
    expect(() => checkProgramSettings({ samples: 1e9 })).toThrow(/'samples'/);
    expect(() => checkProgramSettings({ threshold: Number.NaN })).toThrow(/'threshold'/);
  });
});
