/**
 * Reads of a session's committed variables, as the Session handle answers them: pure functions of the records
 * by name, so that a read taken at once from a live process and one that first woke the process agree.
 * @module
 */
import { setByName } from '../variables/names.js';
import type { VariableRecord } from '../variables/types.js';
import type { TypedVersionedValue, VariableChange, VariableSnapshot, VersionedValue } from './session-context.js';

/** Orders records by name (code units, as `listVariables` has always answered). */
export function byName(a: VariableRecord, b: VariableRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The values and versions of `names` in `variables`, with the names that are not there. */
export function snapshotOf(
  variables: ReadonlyMap<string, VariableRecord>,
  names: readonly string[],
): VariableSnapshot<TypedVersionedValue> {
  const found: Record<string, TypedVersionedValue> = {};
  const missing: string[] = [];
  for (const name of names) {
    const record = variables.get(name);
    if (!record) {
      missing.push(name);
      continue;
    }
    setByName(found, name, { value: record.value, version: record.version, id: record.id, type: record.type });
  }
  return { found, missing };
}

/** `getVariables`' answer from a read of several variables: the values found, the names missing (a copy). */
export function valuesOf(snapshot: VariableSnapshot): { found: Record<string, unknown>; missing: string[] } {
  return {
    found: Object.fromEntries(Object.entries(snapshot.found).map(([name, read]) => [name, read.value])),
    missing: [...snapshot.missing],
  };
}

/**
 * The read of `name` in `snapshot`, or `undefined` when it was missing. Its own fields only: a snapshot's `found` is a
 * plain object (JSON's, over the wire), whose inherited `constructor` or `toString` a variable of that name, missing,
 * would otherwise have read as found.
 */
export function foundIn(snapshot: VariableSnapshot, name: string): VersionedValue | undefined {
  return Object.hasOwn(snapshot.found, name) ? snapshot.found[name] : undefined;
}

/**
 * A record as a change whose old value is not known: the current value a watch with `includeInitial` starts with,
 * or (remote watches) a version whose predecessor was not heard.
 */
export function changeFromRecord(record: VariableRecord): VariableChange {
  return {
    name: record.name,
    oldValue: undefined,
    newValue: record.value,
    version: record.version,
    updatedBy: record.updatedBy,
  };
}

/**
 * The stand-in for a delete of a variable last known at `last.version` that a watch (or a session's view) missed: it
 * comes one version past the last known one, though writes may have come between, and its old value and who deleted
 * are no longer known.
 */
export function missedDelete(name: string, last: { readonly version: number }): VariableChange {
  return {
    name,
    oldValue: undefined,
    newValue: undefined,
    version: last.version + 1,
    updatedBy: null,
    deleted: true,
    gap: true,
  };
}

/**
 * The changes a watch with `includeInitial` delivers first: every variable's current value, in name order, as
 * `listVariables` answers (the map's own order depends on how the process was loaded).
 */
export function initialChanges(variables: ReadonlyMap<string, VariableRecord>): VariableChange[] {
  return [...variables.values()].sort(byName).map(changeFromRecord);
}
