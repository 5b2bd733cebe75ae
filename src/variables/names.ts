/**
 * The rules for variable names and session ids. Both become NATS subject tokens and KV key parts
 * (`tether.v1.events.<sid>.var.<name>`, `<sid>.<name>`), so dots, wildcards (`*`, `>`) and whitespace are out.
 * @module
 */
import { ValidationError } from '../errors.js';
import { cutText } from '../printable.js';
import { kindOf } from './failure.js';

/** A variable name: starts with an ASCII letter or `_`, then ASCII letters, digits, `_` or `-`; 1 to 128 characters. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** A session id: ASCII letters, digits, `_` or `-`; 1 to 128 characters (a UUID or nanoid fits). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Longest rendering of an offending value in a message: the value is hostile input as often as a typo. */
const MAX_SHOWN = 60;

/**
 * An id or a name as a refusal shows it: in single quotes, escaped as JSON escapes it, cut at 60 characters; the
 * kind of a value that is no string.
 */
export function shownId(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  const text = JSON.stringify(value.length > MAX_SHOWN ? `${cutText(value, MAX_SHOWN - 1)}…` : value);
  return `'${text.slice(1, -1)}'`;
}

/** True when `name` is a valid variable name. */
export function isVariableName(name: unknown): name is string {
  return typeof name === 'string' && VARIABLE_NAME_PATTERN.test(name);
}

/**
 * Throws a `ValidationError` unless `name` is a valid variable name; the message shows the offending value, or
 * the kind of a value that is no string (`kindOf`: its `typeof`, `null` or `array`).
 * @example
 * assertVariableName('temperature') // passes
 * assertVariableName('model.temp')  // throws "invalid variable name 'model.temp': ..."
 * assertVariableName(42)            // throws "variable name must be a string, got number"
 */
export function assertVariableName(name: unknown): asserts name is string {
  if (isVariableName(name)) return;
  // Not "invalid variable name number": that reads as a variable called `number`.
  if (typeof name !== 'string') throw notAString('variable name', 'name', name);
  throw new ValidationError(
    `invalid variable name ${shownId(name)}: must start with an ASCII letter (A-Z, a-z) or _ and hold only ASCII ` +
      'letters, digits, _ or -, at most 128 characters',
    { details: { constraint: 'name', name: cutText(name, 200) } },
  );
}

/** True when `id` is a valid session id. */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID_PATTERN.test(id);
}

/**
 * Throws a `ValidationError` unless `id` is a valid session id; the message shows the offending value, or the kind
 * of a value that is no string (`kindOf`), as {@link assertVariableName} does.
 * @example
 * assertSessionId('a1b2-c3') // passes
 * assertSessionId('a.b')     // throws "invalid session id 'a.b': ..."
 * assertSessionId(42)        // throws "session id must be a string, got number"
 */
export function assertSessionId(id: unknown): asserts id is string {
  if (isSessionId(id)) return;
  // Not "invalid session id undefined": that reads as a session called `undefined`.
  if (typeof id !== 'string') throw notAString('session id', 'sessionId', id);
  throw new ValidationError(
    `invalid session id ${shownId(id)}: must hold only ASCII letters (A-Z, a-z), digits, _ or -, 1 to 128 characters`,
    { details: { constraint: 'sessionId', sessionId: cutText(id, 200) } },
  );
}

/**
 * The refusal of an id or a name given as something other than a string, worded alike for every kind of id
 * (variable names, session ids, module ids, lock owners): `"<what> must be a string, got <kind>"`, its kind by
 * {@link kindOf}, and `details` `{ constraint, expected: 'a string', got }`.
 * @example
 * throw notAString('module id', 'moduleId', 42) // "module id must be a string, got number"
 */
export function notAString(
  what: string,
  constraint: string,
  value: unknown,
  extra: { readonly variable?: string } = {},
): ValidationError {
  const got = kindOf(value);
  return new ValidationError(`${what} must be a string, got ${got}`, {
    ...extra,
    details: { constraint, expected: 'a string', got },
  });
}

/**
 * Sets `record[name] = value` as an own property whatever the name: assigning `__proto__` would set the
 * object's prototype instead, and a variable may be named `__proto__`.
 */
export function setByName<T>(record: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(record, name, { value, enumerable: true, writable: true });
  else record[name] = value;
}
