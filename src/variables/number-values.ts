/**
 * `float` and `integer` values. JS has one number type, so the two differ only in what they accept: a float
 * variable takes any number (and the non-finite ones), an integer variable takes whole finite numbers.
 * @module
 */
import { fail, show } from './failure.js';
import type { NumberConstraints } from './types.js';

/**
 * How non-finite floats travel: JSON has no literal for them, so DSPex (and Python's bridge) send these strings.
 * Kept here because validation accepts them as values and the codec produces them.
 */
export const NON_FINITE_FLOATS: Readonly<Record<string, number>> = Object.freeze({
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
});

/**
 * Validates a `float`: any number, or one of the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (normalised to the
 * JS number). Non-finite values bypass `min`/`max`, as in DSPex: they are sentinels, not magnitudes. `-0`
 * becomes `0`, because JSON cannot carry the sign and every node must hold the same value.
 * @example
 * validateFloat(0.7, { min: 0, max: 2 }, 'temperature') // 0.7
 * validateFloat('NaN', { min: 0 }, 'temperature')        // NaN
 */
export function validateFloat(value: unknown, constraints: NumberConstraints, variable: string): number {
  let number: number;
  if (typeof value === 'number') number = value + 0;
  else if (typeof value === 'string' && Object.hasOwn(NON_FINITE_FLOATS, value)) {
    number = NON_FINITE_FLOATS[value] as number;
  } else {
    return fail(variable, `must be a number, got ${show(value)}`, { constraint: 'type' });
  }
  if (!Number.isFinite(number)) return number;
  checkBounds(number, constraints, variable);
  return number;
}

/**
 * Validates an `integer`: a whole, safe number. `42.0` is `42` in JS, so it is accepted; `3.14` is refused
 * with DSPex's "must be a whole number", and the string `"42"` with "must be an integer" (no string parsing:
 * a string arriving for an integer is a caller bug worth reporting). Numbers past 2^53 are refused because
 * they have already lost precision and would differ between nodes.
 * @example
 * validateInteger(42.0, {}, 'maxTokens') // 42
 */
export function validateInteger(value: unknown, constraints: NumberConstraints, variable: string): number {
  if (typeof value !== 'number') {
    return fail(variable, `must be an integer, got ${show(value)}`, { constraint: 'type' });
  }
  if (!Number.isInteger(value)) {
    return fail(variable, `must be a whole number, got ${show(value)}`, { constraint: 'type' });
  }
  if (!Number.isSafeInteger(value)) {
    const range = `${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;
    return fail(variable, `must be an integer between ${range}, got ${show(value)}`, { constraint: 'type' });
  }
  const integer = value + 0;
  checkBounds(integer, constraints, variable);
  return integer;
}

/** Inclusive `min` then `max`, in that order, with DSPex's wording. */
function checkBounds(value: number, constraints: NumberConstraints, variable: string): void {
  const { min, max } = constraints;
  if (min !== undefined && value < min) {
    fail(variable, `value ${value} is below minimum ${min}`, { constraint: 'min', min });
  }
  if (max !== undefined && value > max) {
    fail(variable, `value ${value} is above maximum ${max}`, { constraint: 'max', max });
  }
}
