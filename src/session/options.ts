/**
 * Option bags are checked for unknown keys and for the type of each value: DSPex silently dropped a misspelled
 * option, and an option of the wrong type would be stored in the record and published in its event (an
 * `updatedBy` object, say) where every reader expects a string. Tether refuses both, as the wire does.
 * @module
 */
import { ValidationError } from '../errors.js';

/** What an option's value must be: text, a flag, or a variable version (a whole number ≥ 0). */
export type OptionKind = 'string' | 'boolean' | 'version';

const EXPECTED: Readonly<Record<OptionKind, string>> = {
  string: 'a string',
  boolean: 'a boolean',
  version: 'a whole number ≥ 0',
};

function fits(value: unknown, kind: OptionKind): boolean {
  if (kind === 'version') return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  return typeof value === kind;
}

/**
 * Throws `ValidationError` naming the operation and the option when `options` has keys outside `allowed`, or a
 * value (other than `undefined`, which counts as absent) of another kind than `allowed` gives it.
 */
export function assertOptions(
  options: unknown,
  allowed: Readonly<Record<string, OptionKind>>,
  operation: string,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`${operation} options must be an object`);
  }
  const names = Object.keys(allowed);
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(allowed, key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `${operation} got unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; accepted: ${names.join(', ')}`,
      { details: { operation, unknown, allowed: names } },
    );
  }
  for (const [option, value] of Object.entries(options)) {
    const kind = allowed[option]!;
    if (value === undefined || fits(value, kind)) continue;
    const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    throw new ValidationError(`${operation} option '${option}' must be ${EXPECTED[kind]}, got ${got}`, {
      details: { operation, option, expected: EXPECTED[kind], got },
    });
  }
}
