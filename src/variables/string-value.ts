/**
 * `string` values: lengths in user-perceived characters, a RegExp `pattern`, and an `enum`.
 * @module
 */
import { fail, joinList, show } from './failure.js';
import { PATTERN_TEST_BUDGET, compilePattern, spendPatternBudget, type CompiledPattern } from './string-pattern.js';
import type { StringConstraints } from './types.js';

// One segmenter for the process: building one costs far more than segmenting a short string. The locale does
// not change extended grapheme cluster boundaries, so a fixed one keeps results the same on every node.
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Code units segmented at once. ICU's grapheme segmentation slows down with the length of what it is given
 * (measured on Node 20: 90,000 code units of emoji flags took 4 s whole, 28 ms in windows of this size), and a
 * client chooses what a node must count, so a long string is counted a window at a time.
 */
const SEGMENT_WINDOW = 4096;

/**
 * Counts user-perceived characters (extended grapheme clusters), like Elixir's `String.length`:
 * `"héllo👍🏽"` is 6, where `.length` says 8 and code points say 7. A limit of 10 characters should mean what a person sees.
 * Takes time linear in the length of `text`.
 * @example
 * graphemeLength('👨‍👩‍👧') // 1
 */
export function graphemeLength(text: string): number {
  // Pure ASCII has one grapheme per code unit except for CR LF, which is one cluster; skip segmentation then.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let count = 0;
  let from = 0;
  let window = SEGMENT_WINDOW;
  while (text.length - from > window) {
    // Whether a cluster ends before a character depends only on what comes before it back to the last break, so
    // every cluster of the window but its last is final; that one may go on past the window and is segmented again
    // at the start of the next.
    let clusters = 0;
    let lastStart = 0;
    // Never between the two halves of a surrogate pair: the rule above holds for whole code points.
    const end = isHighSurrogate(text.charCodeAt(from + window - 1)) ? from + window - 1 : from + window;
    for (const { index } of segmenter.segment(text.slice(from, end))) {
      clusters++;
      lastStart = index;
    }
    if (clusters === 1) {
      // One cluster fills the window (a letter with thousands of combining marks): look further along.
      window *= 2;
      continue;
    }
    count += clusters - 1;
    from += lastStart;
    window = SEGMENT_WINDOW;
  }
  for (const _segment of segmenter.segment(text.slice(from))) count++;
  return count;
}

/** Whether a UTF-16 code unit is the first half of a surrogate pair. */
function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * Validates a `string`: `minLength`, `maxLength`, `pattern` (unanchored, like DSPex's `Regex.match?`), then
 * `enum`, reporting the first that fails in DSPex's words. A value longer than the pattern can test in bounded
 * time (see `PATTERN_TEST_BUDGET`) is refused rather than tested.
 * @example
 * validateString('ab', { minLength: 3 }, 'name') // throws "name: must be at least 3 characters, got 2"
 */
export function validateString(value: unknown, constraints: StringConstraints, variable: string): string {
  return checkString(value, constraints, variable, checkPattern);
}

/**
 * The value of a `string` record read back from a store, checked as {@link validateString} checks a write but for
 * the limits only new writes are held to, which an earlier version wrote without: a `pattern` this version's matcher
 * cannot compile (a lookahead defined before the linear-time matcher) is not tested, nor a value longer than the
 * pattern tests in bounded time (written under an earlier, larger budget), and no write's budget is spent. Either is
 * taken as stored; a value the pattern can test must match it.
 * @example
 * checkStoredString('abc1', { pattern: '^(?=[a-z])[a-z0-9]+$' }, 'code') // 'abc1', the pattern untested
 */
export function checkStoredString(value: unknown, constraints: StringConstraints, variable: string): string {
  return checkString(value, constraints, variable, checkStoredPattern);
}

type PatternCheck = (value: string, pattern: string, variable: string) => void;

function checkString(
  value: unknown,
  constraints: StringConstraints,
  variable: string,
  patternCheck: PatternCheck,
): string {
  if (typeof value !== 'string') {
    return fail(variable, `must be a string, got ${show(value)}`, { constraint: 'type' });
  }
  const { minLength, maxLength, pattern } = constraints;
  if (minLength !== undefined || maxLength !== undefined) {
    const length = graphemeLength(value);
    if (minLength !== undefined && length < minLength) {
      fail(variable, `must be at least ${minLength} characters, got ${length}`, { constraint: 'minLength', minLength });
    }
    if (maxLength !== undefined && length > maxLength) {
      fail(variable, `must be at most ${maxLength} characters, got ${length}`, { constraint: 'maxLength', maxLength });
    }
  }
  if (pattern !== undefined) patternCheck(value, pattern, variable);
  checkMembership(value, constraints.enum, variable, 'enum');
  return value;
}

function checkPattern(value: string, pattern: string, variable: string): void {
  const compiled = compilePattern(pattern);
  // Definition refuses such patterns; a variable an earlier version defined with one still gets a clear error.
  if (!('test' in compiled)) {
    return fail(variable, `constraint pattern ${compiled.refused}`, { constraint: 'pattern', pattern }, compiled.cause);
  }
  if (value.length > compiled.maxInputLength) {
    fail(
      variable,
      `value is too long to test against pattern ${pattern}: ${value.length} code units, at most ${compiled.maxInputLength} for this pattern`,
      { constraint: 'pattern', pattern, limit: compiled.maxInputLength },
    );
  }
  if (!spendPatternBudget(value.length * compiled.size)) {
    fail(
      variable,
      `the pattern checks of this write exceed its budget (${PATTERN_TEST_BUDGET} code units × instructions); write fewer or shorter values at a time`,
      { constraint: 'pattern', pattern, budget: PATTERN_TEST_BUDGET },
    );
  }
  mustMatch(compiled, value, pattern, variable);
}

function checkStoredPattern(value: string, pattern: string, variable: string): void {
  const compiled = compilePattern(pattern);
  // Each test stays within one budget's work on its own: maxInputLength × size is at most PATTERN_TEST_BUDGET.
  if ('test' in compiled && value.length <= compiled.maxInputLength) mustMatch(compiled, value, pattern, variable);
}

function mustMatch(compiled: CompiledPattern, value: string, pattern: string, variable: string): void {
  if (!compiled.test(value)) fail(variable, `must match pattern: ${pattern}`, { constraint: 'pattern', pattern });
}

/**
 * The shared "must be one of: a, b" check of `enum` and `choices`. Exact, case-sensitive comparison, as in
 * DSPex: `"Red"` is not `"red"`.
 */
export function checkMembership(
  value: string,
  allowed: readonly string[] | undefined,
  variable: string,
  constraint: string,
): void {
  if (allowed !== undefined && !allowed.includes(value)) {
    fail(variable, `must be one of: ${joinList(allowed)}`, { constraint, allowed: [...allowed] });
  }
}
