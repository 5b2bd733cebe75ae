/**
 * Reading a variable record back from a store: it must be one a node could have written. Only nodes write the
 * variables bucket, but nothing stops another tool from putting there a record with every field a session looks up and
 * a value its variable refuses (`1.8` for a float of max 1, a module type outside `allowedModules`), or with a field
 * missing (no `value`; no `lockedBy`, which reads as a lock held by `undefined`). Taken as it is, such a record reaches
 * modules and exports; here it is refused, with the message a write of it would have met.
 *
 * "A node" includes one of an earlier version, whose records a node reads after an upgrade. So a record is checked
 * for consistency (its fields, its constraints, its value under them), never against the limits a node puts on new
 * definitions and writes, which tighten over versions: a `pattern` this version's matcher cannot run, a string longer
 * than its pattern tests in bounded time, a lock owner over `MAX_LOCK_OWNER_LENGTH`. Those are taken as stored, and a
 * later write to the variable meets today's rules.
 * @module
 */
import { fail, show } from './failure.js';
import { freezeParsedJson, isPlainObject, MAX_JSON_DEPTH } from './json-value.js';
import { createStoredConstraints, type StoredConstraints } from './stored-constraints.js';
import { checkStoredValue } from './stored-value.js';
import type { VariableRecord, VariableType } from './types.js';
import { decodeValue } from './codec.js';

/** What a stored value needs before it can be read as a record at all: the fields that say which variable it is. */
export interface StoredRecordFields {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  readonly [field: string]: unknown;
}

/** Reads one stored record, read from `key` when given; see {@link createStoredRecordReader}. */
export type StoredRecordReader = (stored: StoredRecordFields, key?: string) => VariableRecord;

const isString = (value: unknown): boolean => typeof value === 'string';
const isStringOrNull = (value: unknown): boolean => value === null || typeof value === 'string';

/** The fields besides identity, value and constraints, each with what a node writes there, as a refusal says it. */
const FIELDS: ReadonlyArray<readonly [field: string, expected: string, holds: (value: unknown) => boolean]> = [
  ['version', 'a whole number from 1', (value) => Number.isSafeInteger(value) && (value as number) >= 1],
  ['description', 'a string', isString],
  ['metadata', 'a JSON object', isPlainObject],
  ['createdAt', 'a string', isString],
  ['updatedAt', 'a string', isString],
  ['updatedBy', 'a string or null', isStringOrNull],
  ['reason', 'a string or null', isStringOrNull],
  // Sessions read any lockedBy but null as a lock: a record without one would be locked by `undefined` for good. No
  // length: owners were unbounded before MAX_LOCK_OWNER_LENGTH (record.ts), which bounds only the locks taken since.
  [
    'lockedBy',
    'null or a non-empty lock owner',
    (value) => value === null || (typeof value === 'string' && value !== ''),
  ],
];

/**
 * A reader of stored variable records, for one store's codec: it keeps each variable's checked constraints in
 * `storedConstraints` (stored-constraints.ts), since the same variable's records are read again at every change.
 * They are kept under the key a record was read from, which its delete names (without one, under the record's id).
 *
 * The record it returns holds exactly the fields of a {@link VariableRecord}, deep-frozen: the constraints as
 * `validateStoredConstraints` normalises them and the value as a write would store it (stored-value.ts). `stored` must
 * be what `JSON.parse` has just returned, held by nobody else: its `json` values and metadata are frozen in place.
 * Throws a `ValidationError` naming the variable: a field missing or of the wrong kind (naming the field), the
 * constraints refused as a definition refuses them, or the value refused as a write refuses it (but for the limits
 * above, which only new definitions and writes are held to).
 * @example
 * const read = createStoredRecordReader();
 * read({ ...JSON.parse(stored), value: 1.8 }) // for a float of max 1: "temp: value 1.8 is above maximum 1"
 */
export function createStoredRecordReader(
  storedConstraints: StoredConstraints = createStoredConstraints(),
): StoredRecordReader {
  return (stored, key = stored.id) => {
    const { id, name, type } = stored;
    for (const [field, expected, holds] of FIELDS) {
      const value = stored[field];
      if (!holds(value)) {
        const got = value === undefined ? 'nothing' : show(value);
        fail(name, `stored record field '${field}' must be ${expected}, got ${got}`, { constraint: 'record', field });
      }
    }
    if (stored.value === undefined) {
      fail(name, 'stored record has no value', { constraint: 'record', field: 'value' });
    }
    const constraints = storedConstraints.check(key, type, stored.constraints, name);
    const value = checkStoredValue(type, decodeValue(type, stored.value), constraints, name);
    const tooDeep = (): never =>
      fail(name, `stored record field 'metadata' is nested deeper than ${MAX_JSON_DEPTH} levels`, {
        constraint: 'record',
        field: 'metadata',
      });
    const metadata = freezeParsedJson(stored.metadata, tooDeep, MAX_JSON_DEPTH - 1) as VariableRecord['metadata'];
    // The fields in the order a node makes them (record.ts), so a record written back encodes as it was.
    return Object.freeze({
      id,
      name,
      type,
      value,
      constraints,
      description: stored.description as string,
      metadata,
      version: stored.version as number,
      createdAt: stored.createdAt as string,
      updatedAt: stored.updatedAt as string,
      updatedBy: stored.updatedBy as string | null,
      reason: stored.reason as string | null,
      lockedBy: stored.lockedBy as string | null,
    });
  };
}
