/**
 * Glob patterns over variable names, for `listVariables` and `watchVariables`. Only `*` is special; it matches
 * any run of characters (including none). The pattern is anchored at both ends, and every other character is
 * literal, so `a+b`, `(` or `.` never throw and never mean anything but themselves.
 * @module
 */
import { ValidationError } from '../errors.js';

/** Tests a name against a compiled pattern. */
export type GlobMatcher = (name: string) => boolean;

/** Longer patterns than any name could match are a mistake or an attack; names are at most 128 characters. */
const MAX_PATTERN_LENGTH = 1024;

/**
 * Compiles a glob to a matcher. No RegExp is built: a pattern like `*a*a*a*b` would backtrack polynomially in
 * a regex engine, while the greedy segment scan below is linear per segment and needs no escaping at all.
 * @example
 * const match = compileGlob('llm_*')
 * match('llm_temperature') // true
 * match('my_llm_temp')     // false (anchored)
 * compileGlob('a+b')('a+b') // true (literal)
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (typeof pattern !== 'string') {
    throw new ValidationError(`invalid glob pattern: must be a string, got ${typeof pattern}`, {
      details: { constraint: 'pattern' },
    });
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ValidationError(`invalid glob pattern: longer than ${MAX_PATTERN_LENGTH} characters`, {
      details: { constraint: 'pattern' },
    });
  }
  if (!pattern.includes('*')) return (name) => name === pattern;
  if (/^\*+$/.test(pattern)) return () => true;

  const segments = pattern.split('*');
  // split() on a pattern with at least one `*` gives at least two segments: the text before the first star and
  // the text after the last. Both are anchored; the ones between may float.
  const head = segments[0] ?? '';
  const tail = segments[segments.length - 1] ?? '';
  const middle = segments.slice(1, -1).filter((segment) => segment !== '');
  const minLength = head.length + tail.length + middle.reduce((sum, segment) => sum + segment.length, 0);

  return (name) => {
    if (name.length < minLength || !name.startsWith(head) || !name.endsWith(tail)) return false;
    // Taking each middle segment at its earliest occurrence leaves the most room for the rest, so if this
    // greedy scan fails, no other placement can succeed.
    let position = head.length;
    const end = name.length - tail.length;
    for (const segment of middle) {
      const found = name.indexOf(segment, position);
      if (found === -1 || found + segment.length > end) return false;
      position = found + segment.length;
    }
    return true;
  };
}
