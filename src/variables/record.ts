/**
 * Operations on the Variable record: creating one, writing a value, locking, and the export form.
 * Each returns a new frozen record or throws a typed error; none has side effects.
 * @module
 */
import { ValidationError, VariableLockedError } from '../errors.js';
import { kindOf, show } from './failure.js';
import { isPlainObject } from './json-value.js';
import { decodeValue, encodeValue } from './codec.js';
import { validateConstraints } from './constraints.js';
import { validateDefineOptions } from './define-options.js';
import { assertVariableName, notAString } from './names.js';
import type { Constraints, JsonValue, ReadonlyJsonValue, VariableRecord, VariableType } from './types.js';
import { validateValue } from './validate.js';
import { assertKindReadable, readOptions } from '../option-keys.js';

const NO_METADATA: Readonly<Record<string, JsonValue>> = Object.freeze({});

/** What a new variable is made from; `id` and `at` come from the caller so that this stays pure. */
export interface NewVariable {
  readonly id: string;
  readonly name: string;
  readonly type: unknown;
  readonly value: unknown;
  readonly options: unknown;
  /** Wall-clock ISO time of the definition. */
  readonly at: string;
  readonly updatedBy?: string | undefined;
}

/** Who writes and why; kept on the record and in its history. */
export interface WriteAttribution {
  readonly at: string;
  readonly updatedBy?: string | undefined;
  readonly reason?: string | undefined;
}

/** Checks everything about a definition and returns its version-1 record. */
export function createVariableRecord(input: NewVariable): VariableRecord {
  assertVariableName(input.name);
  const options = validateDefineOptions(input.options, input.name);
  const constraints = validateConstraints(input.type, options.constraints ?? {}, input.name);
  const type = input.type as VariableType;
  const value = validateValue(type, input.value, constraints, input.name);
  return Object.freeze({
    id: input.id,
    name: input.name,
    type,
    value,
    constraints,
    description: options.description ?? '',
    metadata: options.metadata ?? NO_METADATA,
    version: 1,
    createdAt: input.at,
    updatedAt: input.at,
    updatedBy: input.updatedBy ?? null,
    reason: null,
    lockedBy: null,
  });
}

/** Refuses a write from anyone but the lock owner. */
export function assertWritableBy(record: VariableRecord, writer: string | undefined): void {
  if (record.lockedBy !== null && record.lockedBy !== writer) {
    throw new VariableLockedError(record.name, record.lockedBy, writer);
  }
}

/** The record after an accepted value write: validated value, version one higher. */
export function withValue(record: VariableRecord, value: unknown, write: WriteAttribution): VariableRecord {
  assertWritableBy(record, write.updatedBy);
  const normalized = validateValue(record.type, value, record.constraints, record.name);
  return Object.freeze({
    ...record,
    value: normalized,
    version: record.version + 1,
    updatedAt: write.at,
    updatedBy: write.updatedBy ?? null,
    reason: write.reason ?? null,
  });
}

/** The longest lock owner, in characters: an owner names a client or a process, and is stored with the record. */
export const MAX_LOCK_OWNER_LENGTH = 256;

/**
 * Checks a lock owner given for variable `name`: a non-empty string of at most {@link MAX_LOCK_OWNER_LENGTH}
 * characters. Returns it.
 * @throws {ValidationError} naming the variable
 */
export function assertLockOwner(name: string, owner: unknown): string {
  // Worded as every id that is no string is ("lock owner for 't' must be a string, got null"; `typeof` said object).
  assertKindReadable(owner, `lock owner for '${name}'`, { constraint: 'lockOwner' }, name);
  if (typeof owner !== 'string') throw notAString(`lock owner for '${name}'`, 'lockOwner', owner, { variable: name });
  if (owner === '' || owner.length > MAX_LOCK_OWNER_LENGTH) {
    throw new ValidationError(
      `a lock owner for '${name}' must be a non-empty string of at most ${MAX_LOCK_OWNER_LENGTH} characters, ` +
        `got ${owner.length} characters`,
      { variable: name, details: { constraint: 'lockOwner', maxLength: MAX_LOCK_OWNER_LENGTH } },
    );
  }
  return owner;
}

/**
 * The record with its lock set (`owner`) or released (`null`). A lock is not a value write: `version` stays,
 * so watchers and history see only value changes.
 */
export function withLock(record: VariableRecord, owner: string | null, requestedBy: string): VariableRecord {
  if (record.lockedBy !== null && record.lockedBy !== requestedBy) {
    throw new VariableLockedError(record.name, record.lockedBy, requestedBy);
  }
  return Object.freeze({ ...record, lockedBy: owner });
}

/** A record as `exportVariables` hands it out: JSON-safe (non-finite floats as strings). */
export interface ExportedVariable {
  readonly name: string;
  readonly type: VariableType;
  readonly value: ReadonlyJsonValue;
  readonly constraints: Constraints;
  readonly description: string;
  readonly metadata: Readonly<Record<string, ReadonlyJsonValue>>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string | null;
}

/**
 * The export form of a record; it survives `JSON.stringify` unchanged. It has no `lockedBy`: a lock names a holder
 * in the exporting session, not part of the variable's definition, and an import must not lock a variable for
 * someone else.
 */
export function exportRecord(record: VariableRecord): ExportedVariable {
  return {
    name: record.name,
    type: record.type,
    value: encodeValue(record.type, record.value),
    constraints: record.constraints,
    description: record.description,
    metadata: record.metadata,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
  };
}

const EXPORT_KEYS = new Set([
  'name',
  'type',
  'value',
  'constraints',
  'description',
  'metadata',
  'version',
  'createdAt',
  'updatedAt',
  'updatedBy',
]);

/** The export's own account of a record, left behind by an import but checked: a wrong one means a damaged file. */
const PROVENANCE_FIELDS: ReadonlyArray<readonly [string, string, (value: unknown) => boolean]> = [
  ['version', 'a whole number from 1', (value) => Number.isSafeInteger(value) && (value as number) >= 1],
  ['createdAt', 'a string', (value) => typeof value === 'string'],
  ['updatedAt', 'a string', (value) => typeof value === 'string'],
  ['updatedBy', 'a string or null', (value) => value === null || typeof value === 'string'],
];

function assertProvenanceFields(source: Record<string, unknown>, name: string, position: string, index: number): void {
  for (const [field, expected, holds] of PROVENANCE_FIELDS) {
    const value = source[field];
    if (value === undefined || holds(value)) continue;
    throw new ValidationError(
      `imported variable '${name}' (${position}): field '${field}' must be ${expected}, got ${show(value)}`,
      { variable: name, details: { field, expected, got: kindOf(value), index } },
    );
  }
}

/**
 * Throws unless `raw`, record `index` of an import, is a plain object, as `exportVariables` makes them: a class
 * instance would import here with its own fields and arrive at a node as no record at all (only plain data travels),
 * so it is refused alike everywhere.
 */
export function assertImportedObject(raw: unknown, index: number): asserts raw is Record<string, unknown> {
  assertKindReadable(raw, `records[${index}]`, { field: 'records', index });
  if (isPlainObject(raw)) return;
  throw new ValidationError(
    `imported variable records[${index}] must be a plain object with name, type and value, got ${show(raw)}`,
    { details: { index } },
  );
}

/**
 * Rebuilds a fresh version-1 record from an exported one, checking it as strictly as a definition: the importing
 * session starts its own history, so version, times and `updatedBy` of the source are not carried over (`write` says
 * who imports and when). `index` is the record's position in the import, which a refusal names (with the record's
 * name once it has one).
 */
export function importRecord(raw: unknown, id: string, write: WriteAttribution, index = 0): VariableRecord {
  const position = `records[${index}]`;
  assertImportedObject(raw, index);
  const source = raw;
  const unknown = readOptions(source, `imported variable ${position}:`, 'field')
    .map(([key]) => key)
    .filter((key) => !EXPORT_KEYS.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `imported variable ${position} has unknown keys: ${unknown.join(', ')}; accepted: ${[...EXPORT_KEYS].join(', ')}`,
      { details: { unknown, accepted: [...EXPORT_KEYS], index } },
    );
  }
  const name = source.name;
  if (name === undefined) throw missingField(position, 'name', index);
  if (typeof name !== 'string') {
    const got = kindOf(name);
    throw new ValidationError(`imported variable ${position}: field 'name' must be a string, got ${got}`, {
      details: { field: 'name', expected: 'a string', got, index },
    });
  }
  assertVariableName(name);
  // Said here, not by the type check below: "unknown variable type undefined" would blame a type nobody gave.
  for (const field of ['type', 'value'] as const) {
    if (source[field] === undefined) throw missingField(`'${name}' (${position})`, field, index, name);
  }
  assertProvenanceFields(source, name, position, index);
  // Each passed only when given, so that a null is refused as `defineVariable` refuses it, not read as "none".
  const options: Record<string, unknown> = {};
  for (const field of ['constraints', 'description', 'metadata'] as const) {
    if (source[field] !== undefined) options[field] = source[field];
  }
  const type = source.type;
  const value = typeof type === 'string' ? decodeValue(type as VariableType, source.value) : source.value;
  return createVariableRecord({ id, name, type, value, options, at: write.at, updatedBy: write.updatedBy });
}

function missingField(record: string, field: string, index: number, variable?: string): ValidationError {
  return new ValidationError(`imported variable ${record}: missing field '${field}'`, {
    details: { field, constraint: 'required', index },
    ...(variable === undefined ? {} : { variable }),
  });
}
