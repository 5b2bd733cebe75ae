/**
 * The checks of the Session API's arguments other than option bags (those are in options.ts), shared by the
 * embedded and the remote handle so that both refuse the same mistakes with the same `ValidationError`, before
 * anything is written or sent. A remote handle that let them through would send a request the node refuses with
 * another message, or (a listener that is no function) start a watch whose first change throws.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertKindReadable, couldNotRead } from '../option-keys.js';
import { kindOf, show } from '../variables/failure.js';
import { isPlainObject } from '../variables/json-value.js';
import { assertVariableName } from '../variables/names.js';
import { assertImportedObject, assertLockOwner, createVariableRecord } from '../variables/record.js';
import type { VariableListener } from './session-context.js';

/** Throws unless `listener` is a function: a watch must have someone to tell. */
export function assertListener(listener: unknown): asserts listener is VariableListener {
  if (typeof listener !== 'function') throw new ValidationError('watchVariables needs a listener function');
}

/**
 * Throws, naming the variable, unless `fn` is a function: `updateVariable` would otherwise fail inside its loop
 * with a bare `TypeError` once it had read the variable.
 */
export function assertUpdateFunction(name: string, fn: unknown): asserts fn is (value: unknown) => unknown {
  if (typeof fn !== 'function') {
    const got = fn === null ? 'null' : typeof fn;
    throw new ValidationError(`updateVariable of '${name}' needs a function of the current value, got ${got}`, {
      variable: name,
      details: { got },
    });
  }
}

/** Throws unless `values` is a plain object of name → value (not an array, not null). */
export function assertValuesObject(values: unknown): asserts values is Readonly<Record<string, unknown>> {
  assertKindReadable(values, 'setVariables values');
  // Plain only: a Map or a class instance would be written field by field here, and reach a node as no values at all.
  if (!isPlainObject(values)) {
    throw new ValidationError(`setVariables takes a plain object of name → value, got ${show(values)}`);
  }
}

/**
 * Throws unless `names` is an array of strings, naming the first entry that is no string by its position (each
 * name's form is checked where it is read): "variable name must be a string" would not say which entry.
 */
export function assertNamesArray(names: unknown): asserts names is readonly string[] {
  assertKindReadable(names, 'names');
  if (!Array.isArray(names)) throw new ValidationError('variable names must be given as an array of strings');
  // A plain loop: this runs on every read of several variables, a module's sync included.
  for (let index = 0, length = lengthOf(names, 'names'); index < length; index++) {
    const name = itemAt(names, index, 'names');
    if (typeof name === 'string') continue;
    const got = kindOf(name);
    throw new ValidationError(`names[${index}] must be a string, got ${got}`, {
      details: { field: 'names', index, expected: 'a string', got },
    });
  }
}

/** Throws unless `records` is an array (each record is checked as strictly as a definition where it is planned). */
export function assertRecordsArray(records: unknown): asserts records is readonly unknown[] {
  assertKindReadable(records, 'records');
  if (!Array.isArray(records)) throw new ValidationError('importVariables takes an array of exported variables');
  // By index: `forEach` skips the holes of a sparse array, which are no records either.
  const length = lengthOf(records, 'records');
  for (let index = 0; index < length; index++) assertImportedObject(itemAt(records, index, 'records'), index);
}

/** `items.length`, or `ValidationError` naming `field` when reading it throws (a proxy of the caller's). */
function lengthOf(items: readonly unknown[], field: string): number {
  try {
    return items.length;
  } catch (error) {
    throw couldNotRead(field, error, { field });
  }
}

/** `items[index]`, or `ValidationError` naming it when reading it throws (a getter or proxy of the caller's). */
function itemAt(items: readonly unknown[], index: number, field: string): unknown {
  try {
    return items[index];
  } catch (error) {
    throw couldNotRead(`${field}[${index}]`, error, { field, index });
  }
}

/**
 * Throws what `defineVariable(name, type, value, options)` is refused with when its arguments are wrong (the name,
 * then the options, the type with its constraints, the value), in the order and words of an embedded definition:
 * it is the check an embedded definition runs before it asks its session process (`createVariableRecord`), whose
 * record is dropped here. A remote handle runs it before sending, since a type or value JSON cannot carry (a bigint,
 * a cyclic object) would otherwise fail to encode, and a node names the request's fields rather than the variable.
 */
export function assertDefinition(name: unknown, type: unknown, value: unknown, options: unknown): void {
  createVariableRecord({ id: '', name: name as string, type, value, options, at: '' });
}

/**
 * Throws unless `lockVariable(name, owner)` or `unlockVariable` names a variable and gives a lock owner, the name
 * first. An embedded lock runs it before it looks the variable up, so a wrong owner is refused alike whether the
 * variable exists or not, embedded and remote.
 */
export function assertLockArguments(name: unknown, owner: unknown): void {
  assertVariableName(name);
  assertLockOwner(name, owner);
}
