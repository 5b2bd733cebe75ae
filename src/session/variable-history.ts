/**
 * A variable's history, read from its store key: one entry per value version of the current incarnation.
 * @module
 */
import { ValidationError } from '../errors.js';
import type { StoreChange } from '../store/store.js';
import { show } from '../variables/failure.js';
import type { VariableRecord, VariableType } from '../variables/types.js';
import { printable, withArticle } from '../printable.js';

/** One version of a variable's value. */
export interface VariableHistoryEntry {
  readonly version: number;
  /**
   * The variable's type when it held `value`: an import with `replace` may change a variable's type and keep its
   * history, so older entries can have another type than the variable has now.
   */
  readonly type: VariableType;
  readonly value: unknown;
  readonly updatedAt: string;
  readonly updatedBy: string | null;
  readonly reason: string | null;
}

/** The history entry a record's version makes: what the variable held at that version, and who wrote it why. */
export function historyEntryOf(record: VariableRecord): VariableHistoryEntry {
  return {
    version: record.version,
    type: record.type,
    value: record.value,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
    reason: record.reason,
  };
}

/**
 * Turns a key's store history into value versions of `current`: writes of an earlier variable of the same
 * name (deleted, then defined again) carry another id and are left out, and a lock write, which keeps the
 * version, does not make a second entry. A record whose version is below the last one is an undo: a batch on
 * NATS that lost a race after some of its writes landed puts the previous record back (kv-commit.ts), and the
 * batch was refused or is written again, so the undone versions are dropped: they were never acknowledged, and
 * neither a reader of the history nor a rollback may take them for accepted values.
 *
 * Read from the store while writes go on, the history leaves out a batch's write above `current`, the session's view
 * of the variable, when it is the last (or only batch writes follow it): on NATS its commit may still be undone (the
 * view gets a commit's writes only once it is whole). A write after it was conditioned on it, so it stays; so does a
 * single write, accepted once in the store, even where the view lags behind it. Everything before a missing
 * version goes too (a hole the store's walk left, see kv-history.ts): what is returned is an unbroken run of
 * versions, as the variable held them.
 */
export function historyOf(
  current: VariableRecord,
  changes: readonly StoreChange<VariableRecord>[],
): VariableHistoryEntry[] {
  const entries: VariableHistoryEntry[] = [];
  /** For each entry, whether it is a batch's write above the view (see above). */
  const unsettled: boolean[] = [];
  for (const change of changes) {
    if (change.operation !== 'put' || change.value.id !== current.id) continue;
    const record = change.value;
    while ((entries.at(-1)?.version ?? 0) > record.version) {
      entries.pop();
      unsettled.pop();
    }
    if (entries.at(-1)?.version === record.version) continue;
    unsettled.push(change.commit !== undefined && record.version > current.version);
    entries.push(historyEntryOf(record));
  }
  // Only at the end: a write after a batch's write conditioned on it, so that write can no longer be undone.
  while (unsettled.at(-1)) {
    entries.pop();
    unsettled.pop();
  }
  // Versions go up by one with each accepted write.
  let start = entries.length - 1;
  while (start > 0 && entries[start - 1]!.version === entries[start]!.version - 1) start -= 1;
  return start > 0 ? entries.slice(start) : entries;
}

/**
 * Refuses a `version` argument that cannot name a version (a string, a fraction, 0), before anything is read: it
 * would otherwise be reported as a version the history does not keep.
 */
export function assertHistoryVersion(name: string, version: unknown): asserts version is number {
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1) return;
  throw new ValidationError(`version of variable '${name}' must be a whole number from 1, got ${show(version)}`, {
    variable: name,
    details: { field: 'version' },
  });
}

/**
 * The entry of `version` in variable `name`'s history; `ValidationError` when it is not kept there, naming the
 * versions that are: a caller holding a version from a log cannot otherwise tell one pushed out past the history
 * depth from one mistyped, nor which it can roll back to instead.
 */
export function entryAtVersion(
  history: readonly VariableHistoryEntry[],
  name: string,
  version: number,
): VariableHistoryEntry {
  const entry = history.find((candidate) => candidate.version === version);
  if (entry) return entry;
  const [oldest, newest] = [history[0]?.version, history.at(-1)?.version];
  // The history is an unbroken run of versions (historyOf), so its ends say every version it keeps.
  const kept =
    oldest === undefined || newest === undefined ? undefined : { oldestVersion: oldest, newestVersion: newest };
  const keeps = !kept
    ? ''
    : oldest === newest
      ? `, which keeps only version ${oldest}`
      : `, which keeps versions ${oldest} to ${newest}`;
  throw new ValidationError(`variable '${name}' has no version ${printable(version)} in its history${keeps}`, {
    variable: name,
    details: { version, ...kept },
  });
}

/**
 * Refuses a rollback to `entry` when the variable held another type then (an import with `replace` changed it): its
 * value was never one of the current type, even where the current type would take it (the text `'NaN'` as a float).
 */
export function assertRollbackType(entry: VariableHistoryEntry, current: VariableRecord): void {
  if (entry.type === current.type) return;
  throw new ValidationError(
    `variable '${current.name}' cannot roll back to version ${entry.version}: it was ${withArticle(entry.type)} then and ` +
      `is ${withArticle(current.type)} now`,
    { variable: current.name, details: { version: entry.version, type: entry.type, currentType: current.type } },
  );
}
