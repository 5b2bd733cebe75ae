/**
 * The option bags of the Session API: their types, and their check. Bags are checked for unknown keys and for
 * the type of each value: DSPex silently dropped a misspelled option, and an option of the wrong type would be
 * stored in the record and published in its event (an `updatedBy` object, say) where every reader expects a
 * string. Tether refuses both, as the wire does.
 * @module
 */
import { ValidationError } from '../errors.js';
import { kindOf, show } from '../variables/failure.js';
import { assertKindReadable, assertOwnFields, readOptions } from '../option-keys.js';

/**
 * What an option's value must be: text, a name (text that is not empty), a flag, a variable version (a whole
 * number ≥ 0), a count (a whole number ≥ 1), or anything at all.
 */
export type OptionKind = 'string' | 'name' | 'boolean' | 'version' | 'count' | 'any';

const EXPECTED: Readonly<Record<OptionKind, string>> = {
  string: 'a string',
  name: 'a non-empty string',
  boolean: 'a boolean',
  version: 'a whole number ≥ 0',
  count: 'a whole number ≥ 1',
  any: 'anything',
};

function fits(value: unknown, kind: OptionKind): boolean {
  if (kind === 'any') return true;
  if (kind === 'version' || kind === 'count')
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= (kind === 'count' ? 1 : 0);
  if (kind === 'name') return typeof value === 'string' && value !== '';
  return typeof value === kind;
}

/**
 * The options each operation takes, and the kind of each: built once, as the checks run on every call. Who writes
 * (`updatedBy`) is a name, as a lock owner is: an empty one names nobody, yet would be recorded and told to
 * watchers as a writer, and no lock owner (never empty) could match it.
 */
const ACCEPTED = {
  getVariable: { default: 'any' },
  setVariable: { expectedVersion: 'version', expectedId: 'name', updatedBy: 'name', reason: 'string' },
  updateVariable: { updatedBy: 'name', reason: 'string' },
  deleteVariable: { updatedBy: 'name' },
  setVariables: { atomic: 'boolean', updatedBy: 'name', reason: 'string' },
  rollbackVariable: { updatedBy: 'name' },
  variableHistory: { limit: 'count' },
  importVariables: { replace: 'boolean', updatedBy: 'name' },
  watchVariables: { includeInitial: 'boolean' },
  session: { create: 'boolean' },
} as const satisfies Readonly<Record<string, Readonly<Record<string, OptionKind>>>>;

/** An operation that takes an option bag. */
export type OptionsOperation = keyof typeof ACCEPTED;

/**
 * Throws `ValidationError` naming the operation and the option when `options` has keys the operation does not
 * take, or a value (other than `undefined`, which counts as absent) of another kind than it takes there.
 */
export function assertOptions(options: unknown, operation: OptionsOperation): void {
  if (options === undefined) return;
  assertKindReadable(options, `${operation} options`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`${operation} options must be an object`);
  }
  // Own keys are what is checked, and each operation then reads its options as it does: a read took an inherited
  // default.
  assertOwnFields(options, `${operation} options`, { operation });
  const allowed: Readonly<Record<string, OptionKind>> = ACCEPTED[operation];
  const entries = readOptions(options, operation);
  const unknown = entries.map(([key]) => key).filter((key) => !Object.hasOwn(allowed, key));
  if (unknown.length > 0) {
    const names = Object.keys(allowed);
    throw new ValidationError(
      `${operation} got unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; accepted: ${names.join(', ')}`,
      { details: { operation, unknown, accepted: names } },
    );
  }
  for (const [option, value] of entries) {
    const kind = allowed[option]!;
    if (value === undefined || fits(value, kind)) continue;
    const got = value === '' ? 'an empty string' : kindOf(value);
    // A number of the wrong value is shown as itself (`got 0`): its kind alone (`got number`) says nothing.
    const shown = typeof value === 'number' ? show(value) : got;
    throw new ValidationError(`${operation} option '${option}' must be ${EXPECTED[kind]}, got ${shown}`, {
      details: { operation, option, expected: EXPECTED[kind], got },
    });
  }
}

/** Options of `runtime.session(id, options)` and of a remote client's `client.session(id, options)`. */
export interface SessionOptions {
  /**
   * Open the session (create it when it does not exist). With `false` nothing is opened: on a NATS system a session
   * that was never opened (or whose life ended) is `SessionError` (`session_not_found`), from the client's handle at
   * its first call, from a node's `runtime.session` at once; an embedded runtime keeps no record of sessions, so every
   * id is one there, empty until written.
   * @default true
   */
  readonly create?: boolean;
}

/** Options of `setVariable`. */
export interface SetVariableOptions {
  /** Compare-and-set: the write happens only if the variable is at this version (else `VersionConflictError`). */
  readonly expectedVersion?: number;
  /**
   * Compare-and-set on the variable's identity (its record's `id`): the write happens only if the variable is that
   * one, not one deleted and defined again since, whose versions start again at 1 (else `VersionConflictError`,
   * with `expectedId` and `actualId` in its details). `updateVariable` sets it.
   */
  readonly expectedId?: string;
  /** Who writes: kept on the record, and checked against the variable's lock. */
  readonly updatedBy?: string;
  /** Why: kept in the variable's history. */
  readonly reason?: string;
}

/**
 * Options of `updateVariable`: who writes and why. Its compare-and-set is its own (on the version and identity it
 * read), so it takes neither `expectedVersion` nor `expectedId`.
 */
export type UpdateVariableOptions = Pick<SetVariableOptions, 'updatedBy' | 'reason'>;

/** Options of `setVariables`. */
export interface SetVariablesOptions {
  /** All or nothing: the first refused value rejects the whole batch and nothing is written. @default false */
  readonly atomic?: boolean;
  readonly updatedBy?: string;
  readonly reason?: string;
}

/** Options of `variableHistory`. */
export interface VariableHistoryOptions {
  /** Only the newest this many versions (still oldest first). @default every kept version */
  readonly limit?: number;
}

/** Options of `importVariables`. */
export interface ImportVariablesOptions {
  /** Overwrite variables that exist already (else `AlreadyExistsError`, nothing imported). @default false */
  readonly replace?: boolean;
  readonly updatedBy?: string;
}
