/**
 * The rules for variable names and session ids. Both become NATS subject tokens and KV key parts
 * (`tether.v1.events.<sid>.var.<name>`, `<sid>.<name>`), so dots, wildcards (`*`, `>`) and whitespace are out.
 * @module
 */
import { ValidationError } from '../errors.js';
import { kindOf } from './failure.js';

/** A variable name: starts with a letter or `_`, then letters, digits, `_` or `-`; 1 to 128 characters. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** A session id: letters, digits, `_` or `-`; 1 to 128 characters (a UUID or nanoid fits). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Longest rendering of an offending value in a message: the value is hostile input as often as a typo. */
const MAX_SHOWN = 60;

function shown(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  const text = JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value);
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
  if (typeof name !== 'string') {
    // Not "invalid variable name number": that reads as a variable called `number`.
    const got = kindOf(name);
    throw new ValidationError(`variable name must be a string, got ${got}`, {
      details: { constraint: 'name', expected: 'a string', got },
    });
  }
  throw new ValidationError(
    `invalid variable name ${shown(name)}: must start with a letter or _ and hold only letters, digits, _ or -, ` +
      'at most 128 characters',
    { details: { constraint: 'name', name: name.slice(0, 200) } },
  );
}

/** True when `id` is a valid session id. */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID_PATTERN.test(id);
}

/**
 * Throws a `ValidationError` unless `id` is a valid session id; the message shows the offending value.
 * @example
 * assertSessionId('a1b2-c3') // passes
 * assertSessionId('a.b')     // throws "invalid session id 'a.b': ..."
 */
export function assertSessionId(id: unknown): asserts id is string {
  if (isSessionId(id)) return;
  const why =
    typeof id !== 'string' ? 'must be a string' : 'must hold only letters, digits, _ or -, 1 to 128 characters';
  throw new ValidationError(`invalid session id ${shown(id)}: ${why}`, {
    details: { constraint: 'sessionId', sessionId: typeof id === 'string' ? id.slice(0, 200) : typeof id },
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
