import { describe, expect, it } from 'vitest';
import { validateConstraints, validateValue } from '../../src/variables/index.js';
import {
  compilePattern,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_SIZE,
  PATTERN_TEST_BUDGET,
  withPatternBudget,
  type CompiledPattern,
} from '../../src/variables/string-pattern.js';
import { MAX_REPEAT_TOTAL } from '../../src/variables/linear-pattern.js';
import { expectValidation } from './expect-validation.js';

function compiled(source: string): CompiledPattern {
  const result = compilePattern(source);
  if (!('test' in result)) throw new Error(`refused: ${result.refused}`);
  return result;
}

describe('string-pattern', () => {
  // Each of these backtracks exponentially in RegExp (V8 runs each for far longer than vitest's timeout), so
  // under the old engine the test hangs and the timeout fails it. No time is asserted: returning is the point.
  it.each([
    ['^(a+)+$', `${'a'.repeat(40)}!`, 'a'.repeat(40)],
    ['^(a|a)*$', `${'a'.repeat(40)}!`, 'a'.repeat(40)],
    ['(a|a)*b$', `${'a'.repeat(40)}!`, `${'a'.repeat(40)}b`],
    ['^(a|aa)+$', `${'a'.repeat(60)}!`, 'a'.repeat(60)],
    ['^(\\w+\\s?)*$', `${'word '.repeat(12)}!`, 'word '.repeat(12)],
  ])(
    'refuses a value that makes %s backtrack catastrophically, promptly, and still accepts a match',
    (pattern, evil, good) => {
      expectValidation(() => validateValue('string', evil, { pattern }, 's'), `s: must match pattern: ${pattern}`, 's');
      expect(validateValue('string', good, { pattern }, 's')).toBe(good);
    },
  );

  it('accepts a value that (a|a)*$ matches only after backtracking exponentially in RegExp', () => {
    const value = `${'a'.repeat(40)}!`;
    expect(validateValue('string', value, { pattern: '(a|a)*$' }, 's')).toBe(value);
  });

  it.each([
    ['^[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,255}\\.[a-z]{2,63}$', ['ann@example.org'], ['ann@', 'Ann@example.org']],
    ['^\\d{4}-\\d{2}-\\d{2}$', ['2024-01-31'], ['2024-1-31', ' 2024-01-31', '2024-01-31\n']],
    ['^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$', ['0b7c9e2a-1f3d-4c5b-9a8e-7d6c5b4a3f21'], ['0b7c9e2a']],
    ['gpt-4(o|\\.1)?', ['gpt-4', 'openai/gpt-4o-mini'], ['gpt-3.5']],
    ['^\\S+$', ['no-space'], ['a b', 'a\u00a0b', 'a\u2028b', '']],
    ['^.{1,3}$', ['abc', '😀'], ['😀😀', 'a\nb']],
  ])('accepts and refuses with %s exactly as RegExp does', (pattern, good, bad) => {
    const regex = new RegExp(pattern);
    for (const value of good) {
      expect(regex.test(value)).toBe(true);
      expect(validateValue('string', value, { pattern }, 's')).toBe(value);
    }
    for (const value of bad) {
      expect(regex.test(value)).toBe(false);
      expectValidation(() => validateValue('string', value, { pattern }, 's'), `s: must match pattern: ${pattern}`);
    }
  });

  it.each([
    [
      '(a)\\1',
      's: constraint pattern /(a)\\1/ is not supported by the linear-time matcher: backreference or octal escape \\1',
    ],
    [
      '^(?=.*\\d).{8,}$',
      's: constraint pattern /^(?=.*\\d).{8,}$/ is not supported by the linear-time matcher: lookahead (?=',
    ],
    ['(?<!x)y', 's: constraint pattern /(?<!x)y/ is not supported by the linear-time matcher: lookbehind (?<!'],
    [
      'a{1001}',
      's: constraint pattern /a{1001}/ is not supported by the linear-time matcher: repeat count {1001} (the most is 1000)',
    ],
  ])('refuses %s at definition, naming the variable, the pattern and why', (pattern, message) => {
    const error = expectValidation(() => validateConstraints('string', { pattern }, 's'), message, 's');
    expect(error.details).toMatchObject({ constraint: 'pattern' });
  });

  it('refuses nested counts whose product is over 1000, keeping the engine error as cause', () => {
    const error = expectValidation(
      () => validateConstraints('string', { pattern: '(a{100}){100}' }, 's'),
      's: constraint pattern /(a{100}){100}/ is not supported by the linear-time matcher: invalid repeat count: `{100}` (nested counts multiply; the most is 1000)',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses counts adding up to more than MAX_REPEAT_TOTAL before compiling them', () => {
    const pattern = '.{1000}'.repeat(3);
    expectValidation(
      () => validateConstraints('string', { pattern }, 's'),
      `s: constraint pattern /${pattern}/ is not supported by the linear-time matcher: repeat counts adding up to more than ${MAX_REPEAT_TOTAL}`,
    );
    expect(validateConstraints('string', { pattern: 'a{1000}b{1000}' }, 's')).toEqual({ pattern: 'a{1000}b{1000}' });
  });

  it('refuses a pattern source longer than MAX_PATTERN_LENGTH', () => {
    const longest = `[${'x'.repeat(MAX_PATTERN_LENGTH - 2)}]`;
    expect(validateConstraints('string', { pattern: longest }, 's')).toEqual({ pattern: longest });
    expectValidation(
      () => validateConstraints('string', { pattern: 'x'.repeat(MAX_PATTERN_LENGTH + 1) }, 's'),
      `s: constraint pattern is too long: ${MAX_PATTERN_LENGTH + 1} characters, at most ${MAX_PATTERN_LENGTH}`,
    );
  });

  it('refuses a pattern that compiles to more than MAX_PATTERN_SIZE instructions', () => {
    const pattern = '^[a-z]{1,1000}x.{0,1000}$';
    const error = expectValidation(() => validateConstraints('string', { pattern }, 's'), /is too large: it compiles/);
    expect(error.message).toMatch(
      new RegExp(
        `^s: constraint pattern /\\^\\[a-z\\].*/ is too large: it compiles to \\d+ instructions, at most ${MAX_PATTERN_SIZE}$`,
      ),
    );
  });

  it('tests values up to the length the budget allows for the pattern and refuses longer ones untested', () => {
    const pattern = '^.{0,1000}$|^x+$';
    const { size, maxInputLength } = compiled(pattern);
    expect(maxInputLength).toBe(Math.floor(PATTERN_TEST_BUDGET / size));
    expect(maxInputLength).toBeGreaterThanOrEqual(PATTERN_TEST_BUDGET / MAX_PATTERN_SIZE);
    const longest = 'x'.repeat(maxInputLength);
    expect(validateValue('string', longest, { pattern }, 's')).toBe(longest);
    const error = expectValidation(
      () => validateValue('string', `${longest}x`, { pattern }, 's'),
      `s: value is too long to test against pattern ${pattern}: ${maxInputLength + 1} code units, at most ${maxInputLength} for this pattern`,
      's',
    );
    expect(error.details).toMatchObject({ constraint: 'pattern', pattern, limit: maxInputLength });
  });

  it('tests a value that costs exactly the whole budget', () => {
    // 4 instructions, a power of two: the longest value it tests costs the budget to the unit.
    const pattern = 'x+';
    const { size, maxInputLength } = compiled(pattern);
    expect(size * maxInputLength).toBe(PATTERN_TEST_BUDGET);
    const longest = 'x'.repeat(maxInputLength);
    expect(validateValue('string', longest, { pattern }, 's')).toBe(longest);
    expect(withPatternBudget(() => validateValue('string', longest, { pattern }, 's'))).toBe(longest);
  });

  it('gives a check after a write, and a write around another, a budget the other write did not spend', () => {
    const pattern = '^x+$';
    const longest = 'x'.repeat(compiled(pattern).maxInputLength);
    const check = () => validateValue('string', longest, { pattern }, 's');
    expect(withPatternBudget(check)).toBe(longest);
    expect(check()).toBe(longest);
    expect(withPatternBudget(() => [withPatternBudget(check), check()])).toEqual([longest, longest]);
  });

  it('refuses a write to a variable whose stored pattern the matcher cannot run, naming why', () => {
    expectValidation(
      () => validateValue('string', 'ab', { pattern: 'a(?=b)' }, 's'),
      's: constraint pattern /a(?=b)/ is not supported by the linear-time matcher: lookahead (?=',
      's',
    );
  });

  it('returns the same compiled pattern for the same source', () => {
    expect(compilePattern('^[a-z]+$')).toBe(compilePattern('^[a-z]+$'));
  });

  // Found by a README audit, which says a node keeps 32 compiled patterns: no test held the number.
  it('keeps the 32 patterns used last compiled, and compiles again one used before them', () => {
    const sources = Array.from({ length: 33 }, (_, i) => `^kept${i}$`);
    const first = sources.slice(0, 32).map((source) => compilePattern(source));
    sources.slice(0, 32).forEach((source, i) => expect(compilePattern(source)).toBe(first[i]));
    // A 33rd pushes out the one used longest ago, which costs a new compile the next time; the others stay.
    compilePattern(sources[32]!);
    expect(compilePattern(sources[0]!)).not.toBe(first[0]);
    expect(compilePattern(sources[31]!)).toBe(first[31]);
  });
});
