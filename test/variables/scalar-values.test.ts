import { describe, expect, it } from 'vitest';
import { validateValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('scalar-values', () => {
  describe('boolean', () => {
    it.each([
      [true, true],
      [false, false],
      ['true', true],
      ['false', false],
      [1, true],
      [0, false],
    ])('normalises %j to %j', (input, expected) => {
      expect(validateValue('boolean', input, {}, 'flag')).toBe(expected);
    });

    it.each([
      ['"yes"', 'yes', 'flag: must be a boolean (true or false), got "yes"'],
      ['"TRUE"', 'TRUE', 'flag: must be a boolean (true or false), got "TRUE"'],
      ['"1"', '1', 'flag: must be a boolean (true or false), got "1"'],
      ['2', 2, 'flag: must be a boolean (true or false), got 2'],
      ['0.5', 0.5, 'flag: must be a boolean (true or false), got 0.5'],
      ['null', null, 'flag: must be a boolean (true or false), got null'],
    ])('refuses %s', (_label, value, message) => {
      expectValidation(() => validateValue('boolean', value, {}, 'flag'), message, 'flag');
    });
  });

  describe('choice', () => {
    const colors = { choices: ['red', 'green', 'blue'] };

    it('accepts a listed choice', () => {
      expect(validateValue('choice', 'green', colors, 'color')).toBe('green');
    });

    it('refuses an unlisted choice with DSPex wording', () => {
      expectValidation(
        () => validateValue('choice', 'purple', colors, 'color'),
        'color: must be one of: red, green, blue',
        'color',
      );
      expectValidation(
        () => validateValue('choice', 'Red', colors, 'color'),
        'color: must be one of: red, green, blue',
      );
    });

    it('refuses a non-string', () => {
      expectValidation(() => validateValue('choice', 1, colors, 'color'), 'color: must be a string, got 1', 'color');
    });

    it('refuses everything when the choices constraint is missing', () => {
      expectValidation(
        () => validateValue('choice', 'red', {}, 'color'),
        'color: has no choices defined; a choice variable needs the `choices` constraint',
      );
    });
  });

  describe('module', () => {
    it('accepts any non-empty name when unconstrained', () => {
      expect(validateValue('module', 'ChainOfThought', {}, 'strategy')).toBe('ChainOfThought');
    });

    it('refuses a non-string or empty name', () => {
      expectValidation(
        () => validateValue('module', 42, {}, 'strategy'),
        'strategy: must be a module name, got 42',
        'strategy',
      );
      expectValidation(() => validateValue('module', '', {}, 'strategy'), 'strategy: must be a module name, got ""');
    });

    it('checks allowedModules exactly', () => {
      const allowed = { allowedModules: ['Predict', 'ChainOfThought'] };
      expect(validateValue('module', 'Predict', allowed, 'strategy')).toBe('Predict');
      expectValidation(
        () => validateValue('module', 'ReAct', allowed, 'strategy'),
        'strategy: must be one of the allowed modules: Predict, ChainOfThought',
        'strategy',
      );
      expectValidation(
        () => validateValue('module', 'predict', allowed, 'strategy'),
        'strategy: must be one of the allowed modules: Predict, ChainOfThought',
      );
    });
  });
});
