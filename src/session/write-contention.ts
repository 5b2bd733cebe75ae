/**
 * What a session process tells the caller of a write that lost the compare-and-set race every time it was tried:
 * which variable kept changing. The store is asked where it stood after the last lost race, so the error names the
 * key that moved, not the first key the write touched.
 * @module
 */
import type { SerializedError } from '../errors.js';
import type { StoreChange } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import type { StoreCheck } from './write-plan.js';

/**
 * Whether the store's current state of a key (`now`) is no longer what `expected` counted on: a write's expected
 * revision, or a key a plan was judged on.
 */
export function hasMoved(expected: StoreCheck, now: StoreChange<VariableRecord> | undefined): boolean {
  if (!now) return false;
  // Expecting absence (0) is met by a delete marker at any revision, as the store's compare-and-set has it.
  if (expected.expectedRevision === 0) return now.operation === 'put';
  return now.revision !== expected.expectedRevision;
}

/**
 * The revision each key of a write's plan (`writes` and `checks`) was planned on: what a key a lost race read as
 * absent is folded in against (see `applyStoreChanges`).
 */
export function plannedRevisions(plan: {
  readonly writes: readonly StoreCheck[];
  readonly checks?: readonly StoreCheck[] | undefined;
}): ReadonlyMap<string, number> {
  const planned = new Map<string, number>();
  for (const { key, expectedRevision } of [...plan.writes, ...(plan.checks ?? [])]) planned.set(key, expectedRevision);
  return planned;
}

/**
 * The key that lost the race: among the keys that moved (`changes`, the store's state of each after the conflict),
 * the one the store named (`conflictKey`), else the first. Several can have moved where a raced commit's own
 * writes were undone (a KV commit, kv-commit.ts), which moves their revisions but not their values. None moved
 * (a store that only says it conflicted, as a test's faulty one does): the one the store named, else the first.
 */
export function conflictedKey(
  expected: readonly StoreCheck[],
  changes: readonly StoreChange<VariableRecord>[],
  conflictKey: string | undefined,
): string {
  const now = new Map(changes.map((change) => [change.key, change]));
  const moved = expected.filter((entry) => hasMoved(entry, now.get(entry.key))).map((entry) => entry.key);
  const named =
    conflictKey !== undefined && expected.some((entry) => entry.key === conflictKey) ? conflictKey : undefined;
  if (named !== undefined && (moved.length === 0 || moved.includes(named))) return named;
  return moved[0] ?? expected[0]?.key ?? '';
}

/**
 * The `version_conflict` of a write to `variable` that lost the race `attempts` times in a row. No version pair:
 * the caller named no version, and the variable moved under each attempt.
 */
export function contentionError(sessionId: string, variable: string, attempts: number): SerializedError {
  return {
    code: 'version_conflict',
    message: `variable '${variable}' of session '${sessionId}' kept changing under the write; gave up after ${attempts} attempts`,
    details: { sessionId, variable, attempts },
  };
}
