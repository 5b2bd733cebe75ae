/**
 * The wire form of variable values. JSON has no `NaN` or `Infinity` (`JSON.stringify(NaN)` is `null`, silently),
 * so a float variable holding one travels as the string DSPex and Python's bridge use: `"NaN"`, `"Infinity"`,
 * `"-Infinity"`. Only `float` needs this: every other type refuses non-finite numbers at validation.
 * @module
 */
import { NON_FINITE_FLOATS } from './number-values.js';
import type { JsonValue, VariableType } from './types.js';

/**
 * The JSON-safe form of a validated value of `type`: non-finite floats become their strings, everything else
 * is already JSON and is returned as is (same reference, still frozen).
 * @example
 * JSON.stringify(encodeValue('float', Number.NaN)) // '"NaN"'
 */
export function encodeValue(type: VariableType, value: unknown): JsonValue {
  if (type === 'float' && typeof value === 'number' && !Number.isFinite(value)) {
    if (Number.isNaN(value)) return 'NaN';
    return value > 0 ? 'Infinity' : '-Infinity';
  }
  return value as JsonValue;
}

/**
 * Turns a wire value back into what {@link encodeValue} was given: for `float`, the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"` become numbers. Anything else is returned unchanged and unchecked; the value
 * still goes through `validateValue` before it is stored (which accepts those strings for floats too, so a
 * client that skips decoding is not refused).
 * @example
 * decodeValue('float', '-Infinity') // -Infinity
 * decodeValue('string', 'NaN')      // 'NaN' (a string variable holds the text)
 */
export function decodeValue(type: VariableType, value: unknown): unknown {
  if (type === 'float' && typeof value === 'string' && Object.hasOwn(NON_FINITE_FLOATS, value)) {
    return NON_FINITE_FLOATS[value];
  }
  return value;
}
