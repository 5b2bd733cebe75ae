/**
 * How the variable layer reports a broken rule: one `ValidationError` whose message starts with the variable
 * name and then carries DSPex's phrase unchanged, so users who knew DSPex recognise it.
 * @module
 */
import { ValidationError } from '../errors.js';
import { withArticle } from '../printable.js';

/**
 * What a part a client could not read throws when a node reads it (see `tagged-values.ts`): the client's message, as a
 * refusal. Validation takes it as the value's own throw, as it takes a getter's, so a message names where it was read;
 * read anywhere else, it answers `validation_failed`, not a server error carrying a message of the client's choosing.
 */
export class UnreadablePartError extends ValidationError {
  constructor(message: string) {
    super(message, { details: { constraint: 'unreadable' } });
  }
}

/** What a failed check adds to the error's `details`, beside `variable`. */
export interface FailureDetails {
  /** The constraint (or option, or rule) that failed, e.g. `max`, `pattern`, `type`. */
  readonly constraint?: string;
  readonly [key: string]: unknown;
}

/**
 * Throws the `ValidationError` for one failed check. The message is `"<variable>: <phrase>"` when the variable
 * is known, otherwise the bare phrase. `cause` keeps the engine error behind a rejection (an invalid RegExp).
 * @example
 * fail('temperature', 'value 1.5 is above maximum 1', { constraint: 'max' })
 * // ValidationError: temperature: value 1.5 is above maximum 1
 */
export function fail(
  variable: string | undefined,
  phrase: string,
  details: FailureDetails = {},
  cause?: unknown,
): never {
  const message = variable ? `${variable}: ${phrase}` : phrase;
  throw new ValidationError(message, {
    details: { ...details },
    ...(variable ? { variable } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Longest rendering of a user value in a message; a 1 MB string must not become a 1 MB error. */
const MAX_SHOWN = 80;

/** The JSON kind of `value` as a refusal names what it got: `null`, `array`, or its `typeof`. */
export function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * Renders a user-supplied value for an error message: strings quoted, numbers as JS prints them (so `1`, not
 * `1.0`), everything else by its kind, cut to a readable length.
 */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value === null) text = 'null';
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'symbol') text = 'a symbol';
  else if (Array.isArray(value)) text = 'an array';
  else text = describeObject(value);
  return shorten(text);
}

/** Cuts text for a message to `max` characters ({@link MAX_SHOWN} unless given), marking the cut with `…`. */
export function shorten(text: string, max = MAX_SHOWN): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Names an object by its class, because a `Date` or a `Map` is the usual mistake and the class says so. */
function describeObject(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return 'an object';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== 'string' || name === '') return 'an object with a custom prototype';
  return withArticle(name);
}

/** Items a message lists at most; a list of 20,000 choices is in the error's details, whole. */
const MAX_LISTED = 20;

/** Joins a list for a message the way DSPex does: `red, green, blue`; past 20 items, `… and N more`. */
export function joinList(items: readonly unknown[]): string {
  const listed = items
    .slice(0, MAX_LISTED)
    .map((item) => shorten(typeof item === 'string' ? item : JSON.stringify(item)))
    .join(', ');
  return items.length > MAX_LISTED ? `${listed}, … and ${items.length - MAX_LISTED} more` : listed;
}
