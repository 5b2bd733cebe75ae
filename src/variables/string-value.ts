/**
 * `string` values: lengths in user-perceived characters, a RegExp `pattern`, and an `enum`.
 * @module
 */
import { fail, joinList, show } from './failure.js';
import { PATTERN_TEST_BUDGET, compilePattern, spendPatternBudget } from './string-pattern.js';
import type { StringConstraints } from './types.js';

// One segmenter for the process: building one costs far more than segmenting a short string. The locale does
// not change extended grapheme cluster boundaries, so a fixed one keeps results the same on every node.
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Counts user-perceived characters (extended grapheme clusters), like Elixir's `String.length`:
 * `"héllo👍🏽"` is 6, where `.length` says 8 and code points say 7. A limit of 10 characters should mean what a person sees.
 * @example
 * graphemeLength('👨‍👩‍👧') // 1
 */
export function graphemeLength(text: string): number {
  // Pure ASCII has one grapheme per code unit except for CR LF, which is one cluster; skip segmentation then.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let count = 0;
  for (const _segment of segmenter.segment(text)) count++;
  return count;
}

/**
 * Validates a `string`: `minLength`, `maxLength`, `pattern` (unanchored, like DSPex's `Regex.match?`), then
 * `enum`, reporting the first that fails in DSPex's words. A value longer than the pattern can test in bounded
 * time (see `PATTERN_TEST_BUDGET`) is refused rather than tested.
 * @example
 * validateString('ab', { minLength: 3 }, 'name') // throws "name: must be at least 3 characters, got 2"
 */
export function validateString(value: unknown, constraints: StringConstraints, variable: string): string {
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
  if (pattern !== undefined) checkPattern(value, pattern, variable);
  checkMembership(value, constraints.enum, variable, 'enum');
  return value;
}

function checkPattern(value: string, pattern: string, variable: string): void {
  const compiled = compilePattern(pattern);
  // Definition refuses such patterns; a record stored before they were refused still gets a clear error.
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
