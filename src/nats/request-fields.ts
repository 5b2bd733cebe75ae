/**
 * Reading the fields of a decoded request body, each as the type its endpoint needs. A field that is missing, of
 * the wrong type, or unknown to the operation becomes a `ValidationError` naming the field, before any session is
 * touched, as the embedded API refuses a bad argument.
 *
 * An optional field sent as `null` is read as left out ({@link isLeftOut}). Many JSON writers put `null` for an
 * optional field that has no value (Python's `None`, a Go pointer without `omitempty`, Jackson by default), and the
 * replies themselves carry `updatedBy: null` and `reason: null`, which a client may send back as it read them.
 * Protocol Buffers' JSON mapping reads such a `null` the same way. A required field sent as `null` is still refused as
 * of the wrong kind, and `null` stays a value where a field takes any JSON (`value`, `default`).
 * @module
 */
import { ValidationError } from '../errors.js';
import { cutText } from '../printable.js';
import { kindOf, show } from '../variables/failure.js';
import { freezeJson, shownPath } from '../variables/json-value.js';
import type { JsonValue } from '../variables/types.js';
import { assertTimerMs } from './timer-ms.js';
import type { RequestBody } from './wire.js';

/** Whether a request left an optional field out: absent, or sent as `null` (see the module comment). */
export function isLeftOut(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** Refuses fields the operation does not know, as the embedded API refuses unknown options. */
export function assertFields(body: RequestBody, accepted: readonly string[], operation: string): void {
  const unknown = Object.keys(body).filter((key) => !accepted.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `${operation} got unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; accepted: ${accepted.length > 0 ? accepted.join(', ') : 'none'}`,
      {
        details: { operation, unknown, accepted },
      },
    );
  }
}

function wrongType(field: string, expected: string, value: unknown): ValidationError {
  const got = kindOf(value);
  // A number of the wrong value is shown as itself (`got 0`): its kind alone (`got number`) says nothing.
  const shown = typeof value === 'number' ? show(value) : got;
  return new ValidationError(`field '${field}' must be ${expected}, got ${shown}`, {
    details: { field, expected, got },
  });
}

/** A required string field. */
export function requireString(body: RequestBody, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw value === undefined ? missing(field) : wrongType(field, 'a string', value);
  return value;
}

/** Execution ids become event fields and control message bodies: the id rule keeps them plain tokens. */
const EXECUTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** `id` when it is a valid execution id: 1–128 ASCII letters, digits, `_` or `-` (a caller's own ids included). */
export function assertExecutionId(id: string): string {
  if (EXECUTION_ID.test(id)) return id;
  throw new ValidationError(
    `invalid executionId '${cutText(id, 60)}': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'`,
    {
      details: { field: 'executionId' },
    },
  );
}

/** An optional string field (`undefined` when left out). */
export function optionalString(body: RequestBody, field: string): string | undefined {
  const value = body[field];
  if (isLeftOut(value)) return undefined;
  if (typeof value !== 'string') throw wrongType(field, 'a string', value);
  return value;
}

/** An optional whole number of at least `minimum` (`undefined` when left out). */
export function optionalCount(body: RequestBody, field: string, minimum = 0): number | undefined {
  const value = body[field];
  if (isLeftOut(value)) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum)
    throw wrongType(field, `a whole number ≥ ${minimum}`, value);
  return value;
}

/** An optional timeout in milliseconds (`undefined` when left out), as {@link assertTimerMs} checks it. */
export function optionalTimerMs(body: RequestBody, field: string): number | undefined {
  const value = body[field];
  if (isLeftOut(value)) return undefined;
  assertTimerMs(field, value);
  return value;
}

/** An optional boolean field (`undefined` when left out). */
export function optionalBoolean(body: RequestBody, field: string): boolean | undefined {
  const value = body[field];
  if (isLeftOut(value)) return undefined;
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean', value);
  return value;
}

/** A required array field. */
export function requireArray(body: RequestBody, field: string): readonly unknown[] {
  const value = body[field];
  if (!Array.isArray(value)) throw value === undefined ? missing(field) : wrongType(field, 'an array', value);
  return value;
}

/** A required JSON object field. */
export function requireObject(body: RequestBody, field: string): RequestBody {
  const value = body[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw value === undefined ? missing(field) : wrongType(field, 'an object', value);
  }
  return value as RequestBody;
}

/**
 * An optional field that may hold any JSON value, checked as a variable's value is (`freezeJson`): a decoded body
 * holds nothing JSON cannot, but it may nest deeper than `MAX_JSON_DEPTH` levels, which a value may not (and
 * which would overflow the stack once the value is echoed in the reply).
 */
export function optionalJsonValue(body: RequestBody, field: string): JsonValue | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  return freezeJson(
    value,
    (path, problem) => {
      throw new ValidationError(`field '${field}' must be a JSON value; ${shownPath(path)} is ${problem}`, {
        details: { field, path },
      });
    },
    field,
  );
}

/** A field that must be present; its value is checked by the session (`value` may be any JSON, even `null`). */
export function requirePresent(body: RequestBody, field: string): unknown {
  if (!Object.hasOwn(body, field)) throw missing(field);
  return body[field];
}

function missing(field: string): ValidationError {
  return new ValidationError(`missing field '${field}'`, { details: { field, constraint: 'required' } });
}
