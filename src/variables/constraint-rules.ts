/**
 * The checks one constraint value gets at definition time: is `min` a number, is `choices` a non-empty list of
 * distinct strings, does `pattern` compile. Each returns the normalised (copied, frozen) value or reports a
 * phrase through `bad`, which throws.
 * @module
 */
import { show } from './failure.js';
import { normalizeJsonShape } from './json-shape.js';
import { compilePattern } from './string-pattern.js';

/** Reports why a constraint value is wrong; always throws. */
export type Bad = (phrase: string, cause?: unknown) => never;

/** Normalises one constraint value or calls `bad`. `variable` is only used for nested messages. */
export type ConstraintRule = (value: unknown, bad: Bad, variable: string | undefined) => unknown;

/** A bound of `float`/`integer`: finite, because JSON cannot store an infinite bound and none is needed. */
export const finiteNumber: ConstraintRule = (value, bad) =>
  typeof value === 'number' && Number.isFinite(value) ? value + 0 : bad(`must be a finite number, got ${show(value)}`);

/** A length or item count: a non-negative integer. */
export const count: ConstraintRule = (value, bad) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
    ? value + 0
    : bad(`must be a non-negative integer, got ${show(value)}`);

/** `dimensions`: a positive integer; an embedding of no dimensions holds nothing. */
export const positiveInteger: ConstraintRule = (value, bad) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0
    ? value
    : bad(`must be a positive integer, got ${show(value)}`);

/**
 * `choices`, `enum`, `allowedModules`: a non-empty list of distinct strings. Empty would accept nothing (or, as
 * DSPex read it, everything); a repeated entry is almost always a copy-paste slip. Either way, say so now.
 */
export const distinctStrings: ConstraintRule = (value, bad) => {
  if (!Array.isArray(value) || value.length === 0) {
    return bad(`must be a non-empty list of strings, got ${show(value)}`);
  }
  const seen = new Set<string>();
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') return bad(`must hold only strings, got ${show(item)}`);
    if (seen.has(item)) return bad(`lists '${item}' twice`);
    seen.add(item);
  }
  return Object.freeze([...seen]);
};

/** `allowedModules`: like {@link distinctStrings}, and no entry may be empty (no module has an empty name). */
export const moduleNames: ConstraintRule = (value, bad, variable) => {
  const names = distinctStrings(value, bad, variable) as readonly string[];
  return names.includes('') ? bad('must not hold an empty module name') : names;
};

/**
 * `pattern`: a RegExp source that compiles and that the linear-time matcher can run. DSPex turned an invalid
 * pattern into a literal match, which hid the typo until values were mysteriously refused; here the definition
 * fails with the engine's reason, or with the construct the matcher does not support.
 */
export const regexSource: ConstraintRule = (value, bad) => {
  if (typeof value !== 'string') return bad(`must be a RegExp source string, got ${show(value)}`);
  const compiled = compilePattern(value);
  return 'test' in compiled ? value : bad(compiled.refused, compiled.cause);
};

/**
 * `pattern` as a stored record holds it: any string. Which patterns the matcher runs is a rule for new definitions,
 * tightened over versions (lookarounds were taken before the linear-time matcher, see string-pattern.ts); a variable an
 * earlier node defined keeps its pattern, and `validateString` refuses every later write against one it cannot compile.
 */
export const storedRegexSource: ConstraintRule = (value, bad) =>
  typeof value === 'string' ? value : bad(`must be a RegExp source string, got ${show(value)}`);

/** A tensor `shape` constraint: a list of non-negative integers or `null` (any size in that dimension). */
export const tensorShape: ConstraintRule = (value, bad) => {
  if (!Array.isArray(value)) return bad(`must be a list of sizes (non-negative integers or null), got ${show(value)}`);
  const sizes = value as unknown[];
  const out: (number | null)[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const size = i in sizes ? sizes[i] : undefined;
    if (size !== null && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) {
      return bad(`must be a list of sizes (non-negative integers or null), got ${show(size)} at index ${i}`);
    }
    out.push(size === null ? null : size + 0);
  }
  return Object.freeze(out);
};

/** The JSON-Schema-lite `shape` of a `json` variable; its own messages carry the path inside the shape. */
export const jsonShape: ConstraintRule = (value, _bad, variable) => normalizeJsonShape(value, variable);

const ITEM_TYPES = ['float', 'integer', 'string', 'boolean'];

/** A list's `itemType`: one of the scalar types a JSON item can be checked against without coercion. */
export const itemType: ConstraintRule = (value, bad) =>
  typeof value === 'string' && ITEM_TYPES.includes(value)
    ? value
    : bad(`must be one of: ${ITEM_TYPES.join(', ')}, got ${show(value)}`);
