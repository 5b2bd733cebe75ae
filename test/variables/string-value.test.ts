import { describe, expect, it } from 'vitest';
import { graphemeLength, validateValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('string-value', () => {
  describe('graphemeLength', () => {
    it('counts user-perceived characters, not code units or code points', () => {
      expect(graphemeLength('héllo👍🏽')).toBe(6);
      expect(graphemeLength('e\u0301')).toBe(1);
      expect(graphemeLength('👨‍👩‍👧')).toBe(1);
      expect(graphemeLength('🇫🇷🇩🇪')).toBe(2);
    });

    it('counts plain ASCII by length and CR LF as one character', () => {
      expect(graphemeLength('')).toBe(0);
      expect(graphemeLength('hello world')).toBe(11);
      expect(graphemeLength('a\r\nb')).toBe(3);
    });

    // Long strings are counted a few thousand code units at a time: a cluster cut by a window's end must count once.
    it.each([
      ['combining marks', 'e\u0301', 1],
      ['skin-tone emoji', '👍🏽', 1],
      ['family ZWJ sequences', '👨‍👩‍👧', 1],
      ['flag pairs', '🇫🇷🇩🇪', 2],
      ['CR LF', '\r\n', 1],
      ['a mix', 'héllo👍🏽\r\n🇩🇪x', 9],
    ])('counts a long string of %s as its parts add up, wherever a window ends', (_label, unit, perUnit) => {
      // Shifting by 0 to 6 code units moves every window's end to another place inside a cluster.
      for (let shift = 0; shift < 7; shift++) {
        const text = 'é'.repeat(shift) + unit.repeat(Math.ceil(20_000 / unit.length));
        expect(graphemeLength(text)).toBe(shift + perUnit * Math.ceil(20_000 / unit.length));
      }
    });

    it('counts one cluster longer than a window as one character', () => {
      expect(graphemeLength('a' + '\u0301'.repeat(50_000) + 'b')).toBe(2);
      expect(graphemeLength('x'.repeat(4095) + 'a' + '\u0301'.repeat(10_000))).toBe(4096);
    });
  });

  describe('string', () => {
    it('accepts any string when unconstrained, including the empty one', () => {
      expect(validateValue('string', '', {}, 's')).toBe('');
      expect(validateValue('string', 'hello', {}, 's')).toBe('hello');
    });

    it.each([
      ['a number', 42, 's: must be a string, got 42'],
      ['null', null, 's: must be a string, got null'],
      ['undefined', undefined, 's: must be a string, got undefined'],
      ['an object', { a: 1 }, 's: must be a string, got an object'],
      ['a String wrapper', new String('x'), 's: must be a string, got a String'],
    ])('refuses %s', (_label, value, message) => {
      expectValidation(() => validateValue('string', value, {}, 's'), message, 's');
    });

    it('accepts exactly minLength characters and refuses one fewer', () => {
      expect(validateValue('string', 'abc', { minLength: 3 }, 'name')).toBe('abc');
      expectValidation(
        () => validateValue('string', 'ab', { minLength: 3 }, 'name'),
        'name: must be at least 3 characters, got 2',
        'name',
      );
    });

    it('accepts exactly maxLength characters and refuses one more', () => {
      expect(validateValue('string', 'abcde', { maxLength: 5 }, 'name')).toBe('abcde');
      expectValidation(
        () => validateValue('string', 'abcdef', { maxLength: 5 }, 'name'),
        'name: must be at most 5 characters, got 6',
        'name',
      );
    });

    it('counts lengths in graphemes: "héllo👍🏽" is 6 characters', () => {
      expect(validateValue('string', 'héllo👍🏽', { minLength: 6, maxLength: 6 }, 's')).toBe('héllo👍🏽');
      expectValidation(
        () => validateValue('string', 'héllo👍🏽', { maxLength: 5 }, 's'),
        's: must be at most 5 characters, got 6',
      );
      expectValidation(
        () => validateValue('string', 'héllo👍🏽', { minLength: 7 }, 's'),
        's: must be at least 7 characters, got 6',
      );
    });

    it('tests pattern unanchored, like DSPex', () => {
      expect(validateValue('string', 'xx42yy', { pattern: '\\d+' }, 'code')).toBe('xx42yy');
      expectValidation(
        () => validateValue('string', 'abc', { pattern: '\\d+' }, 'code'),
        'code: must match pattern: \\d+',
        'code',
      );
    });

    it('honours anchors the user writes', () => {
      expect(validateValue('string', 'abc', { pattern: '^[a-z]+$' }, 's')).toBe('abc');
      expectValidation(
        () => validateValue('string', 'abc1', { pattern: '^[a-z]+$' }, 's'),
        's: must match pattern: ^[a-z]+$',
      );
    });

    it('gives the same answer on repeated tests of one pattern (no lastIndex state)', () => {
      for (let i = 0; i < 3; i++) expect(validateValue('string', 'a1', { pattern: '\\d' }, 's')).toBe('a1');
    });

    it('checks enum exactly, case-sensitively', () => {
      expect(validateValue('string', 'red', { enum: ['red', 'green'] }, 'c')).toBe('red');
      expectValidation(
        () => validateValue('string', 'Red', { enum: ['red', 'green'] }, 'c'),
        'c: must be one of: red, green',
        'c',
      );
    });

    it('names the first 20 allowed values of a long list and how many more, keeping the whole list in details', () => {
      const allowed = Array.from({ length: 25 }, (_, i) => `v${i}`);
      const error = expectValidation(
        () => validateValue('string', 'x', { enum: allowed }, 'c'),
        `c: must be one of: ${allowed.slice(0, 20).join(', ')}, … and 5 more`,
      );
      expect(error.details).toMatchObject({ constraint: 'enum', allowed });
    });

    it('reports the first failure in the order minLength, maxLength, pattern, enum', () => {
      const all = { minLength: 2, maxLength: 4, pattern: '^[a-z]+$', enum: ['abc'] };
      expectValidation(() => validateValue('string', '1', all, 's'), 's: must be at least 2 characters, got 1');
      expectValidation(() => validateValue('string', '12345', all, 's'), 's: must be at most 4 characters, got 5');
      expectValidation(() => validateValue('string', '123', all, 's'), 's: must match pattern: ^[a-z]+$');
      expectValidation(() => validateValue('string', 'abcd', all, 's'), 's: must be one of: abc');
      expect(validateValue('string', 'abc', all, 's')).toBe('abc');
    });

    it('records the failed constraint in details', () => {
      const error = expectValidation(
        () => validateValue('string', 'x', { minLength: 2 }, 's'),
        's: must be at least 2 characters, got 1',
      );
      expect(error.details).toMatchObject({ constraint: 'minLength', minLength: 2 });
    });

    it('cuts a huge offending value short in the message', () => {
      const error = expectValidation(() => validateValue('string', 42, {}, 's'), 's: must be a string, got 42');
      expect(error.message.length).toBeLessThan(100);
      const big = expectValidation(
        () => validateValue('float', 'x'.repeat(10_000), {}, 'f'),
        /^f: must be a number, got "x+…$/,
      );
      expect(big.message.length).toBeLessThan(120);
    });
  });
});
