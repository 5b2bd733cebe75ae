import { describe, expect, it } from 'vitest';
import { validateValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('number-values', () => {
  describe('float', () => {
    it('accepts any finite number, including whole ones, and keeps it a number', () => {
      expect(validateValue('float', 0.7, {}, 't')).toBe(0.7);
      expect(validateValue('float', 42, {}, 't')).toBe(42);
      expect(validateValue('float', -1e300, {}, 't')).toBe(-1e300);
    });

    it('normalises -0 to 0 because JSON cannot carry the sign', () => {
      expect(Object.is(validateValue('float', -0, {}, 't'), 0)).toBe(true);
    });

    it('accepts NaN, Infinity and -Infinity as numbers and as their wire strings', () => {
      expect(validateValue('float', Number.NaN, {}, 't')).toBeNaN();
      expect(validateValue('float', 'NaN', {}, 't')).toBeNaN();
      expect(validateValue('float', 'Infinity', {}, 't')).toBe(Number.POSITIVE_INFINITY);
      expect(validateValue('float', Number.POSITIVE_INFINITY, {}, 't')).toBe(Number.POSITIVE_INFINITY);
      expect(validateValue('float', '-Infinity', {}, 't')).toBe(Number.NEGATIVE_INFINITY);
      expect(validateValue('float', Number.NEGATIVE_INFINITY, {}, 't')).toBe(Number.NEGATIVE_INFINITY);
    });

    it('lets NaN and the infinities bypass min and max', () => {
      const bounds = { min: 0, max: 1 };
      expect(validateValue('float', 'NaN', bounds, 't')).toBeNaN();
      expect(validateValue('float', 'Infinity', bounds, 't')).toBe(Number.POSITIVE_INFINITY);
      expect(validateValue('float', Number.NEGATIVE_INFINITY, bounds, 't')).toBe(Number.NEGATIVE_INFINITY);
    });

    it('accepts values exactly at min and max (inclusive bounds)', () => {
      expect(validateValue('float', 0, { min: 0, max: 1 }, 't')).toBe(0);
      expect(validateValue('float', 1, { min: 0, max: 1 }, 't')).toBe(1);
    });

    it('refuses a value just above max with DSPex wording', () => {
      expectValidation(
        () => validateValue('float', 1.5, { max: 1 }, 'temperature'),
        'temperature: value 1.5 is above maximum 1',
        'temperature',
      );
      expectValidation(
        () => validateValue('float', 1.0000001, { min: 0, max: 1 }, 't'),
        't: value 1.0000001 is above maximum 1',
      );
    });

    it('refuses a value just below min with DSPex wording', () => {
      expectValidation(
        () => validateValue('float', -1, { min: 0 }, 'temperature'),
        'temperature: value -1 is below minimum 0',
        'temperature',
      );
      expectValidation(
        () => validateValue('float', -0.001, { min: 0, max: 1 }, 't'),
        't: value -0.001 is below minimum 0',
      );
    });

    it('checks min before max', () => {
      // Unreachable through validateConstraints (min > max is refused), but the order is part of the contract.
      expectValidation(() => validateValue('float', 5, { min: 10, max: 1 }, 't'), 't: value 5 is below minimum 10');
    });

    it('records the failed constraint in details', () => {
      const error = expectValidation(() => validateValue('float', 3, { max: 2 }, 't'), 't: value 3 is above maximum 2');
      expect(error.details).toMatchObject({ variable: 't', constraint: 'max', max: 2 });
    });

    it.each([
      ['a numeric string', '0.5', 't: must be a number, got "0.5"'],
      ['a lowercase nan', 'nan', 't: must be a number, got "nan"'],
      ['a boolean', true, 't: must be a number, got true'],
      ['null', null, 't: must be a number, got null'],
      ['undefined', undefined, 't: must be a number, got undefined'],
      ['an array', [1], 't: must be a number, got an array'],
      ['a bigint', 1n, 't: must be a number, got 1n'],
    ])('refuses %s', (_label, value, message) => {
      expectValidation(() => validateValue('float', value, {}, 't'), message, 't');
    });
  });

  describe('integer', () => {
    it('accepts integers and whole floats (42.0 is 42)', () => {
      expect(validateValue('integer', 42, {}, 'n')).toBe(42);
      expect(validateValue('integer', 42.0, {}, 'n')).toBe(42);
      expect(validateValue('integer', -7, {}, 'n')).toBe(-7);
      expect(Object.is(validateValue('integer', -0, {}, 'n'), 0)).toBe(true);
    });

    it('refuses 3.14 as not a whole number', () => {
      expectValidation(
        () => validateValue('integer', 3.14, {}, 'maxTokens'),
        'maxTokens: must be a whole number, got 3.14',
        'maxTokens',
      );
    });

    it('refuses the string "42" as not an integer', () => {
      expectValidation(
        () => validateValue('integer', '42', {}, 'maxTokens'),
        'maxTokens: must be an integer, got "42"',
        'maxTokens',
      );
    });

    it('refuses NaN, the infinities and their strings', () => {
      expectValidation(() => validateValue('integer', Number.NaN, {}, 'n'), 'n: must be a whole number, got NaN');
      expectValidation(
        () => validateValue('integer', Number.POSITIVE_INFINITY, {}, 'n'),
        'n: must be a whole number, got Infinity',
      );
      expectValidation(() => validateValue('integer', 'NaN', {}, 'n'), 'n: must be an integer, got "NaN"');
    });

    it('refuses integers past 2^53 that have lost precision', () => {
      expect(validateValue('integer', Number.MAX_SAFE_INTEGER, {}, 'n')).toBe(Number.MAX_SAFE_INTEGER);
      expectValidation(
        () => validateValue('integer', 2 ** 53, {}, 'n'),
        'n: must be an integer between -9007199254740991 and 9007199254740991, got 9007199254740992',
      );
    });

    it('accepts the bounds and refuses one past them', () => {
      const bounds = { min: 1, max: 10 };
      expect(validateValue('integer', 1, bounds, 'n')).toBe(1);
      expect(validateValue('integer', 10, bounds, 'n')).toBe(10);
      expectValidation(() => validateValue('integer', 0, bounds, 'n'), 'n: value 0 is below minimum 1');
      expectValidation(() => validateValue('integer', 11, bounds, 'n'), 'n: value 11 is above maximum 10');
    });

    it('refuses booleans and null', () => {
      expectValidation(() => validateValue('integer', true, {}, 'n'), 'n: must be an integer, got true');
      expectValidation(() => validateValue('integer', null, {}, 'n'), 'n: must be an integer, got null');
    });
  });
});
