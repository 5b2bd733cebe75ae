/**
 * The rollback loop behind `rollbackVariable`: read the variable and its kept versions from the store, check the
 * version asked for against them, and write its value conditioned on the record read, again (after a pause with
 * jitter) when another write got in first.
 * @module
 */
import { VariableNotFoundError, VersionConflictError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import { assertVariableName } from '../variables/names.js';
import { assertOptions, type SetVariableOptions } from './options.js';
import {
  assertHistoryVersion,
  assertRollbackType,
  entryAtVersion,
  historyOf,
  type VariableHistoryEntry,
} from './variable-history.js';
import { MAX_WRITE_ATTEMPTS } from '../../machines/session.writes.js';
import { jitteredBackoff } from './update-with-retry.js';
import { variableKey } from './write-plan.js';

/** What a rollback needs of its session handle. */
export interface RollbackSession {
  readonly sessionId: string;
  /** The store of the session's variables. */
  readonly store: Store<VariableRecord>;
  /** Resolves once the session's process is alive (woken if need be); rejects with its `SessionError` once it ended. */
  live(): Promise<unknown>;
  /** The record as the session's view holds it, or read from the store when the view does not hold it yet. */
  describeFresh(name: string): Promise<VariableRecord>;
  setVariable(name: string, value: unknown, options: SetVariableOptions): Promise<VariableRecord>;
}

/**
 * Writes, as a new version of `name` in `session`, the value it held at `version`; `options.updatedBy` names who
 * does. A write that got in between the read and the rollback's own makes it try again after a pause with jitter,
 * as a plain write does and as often (`MAX_WRITE_ATTEMPTS`): a writer on another node that keeps writing learns its
 * next version from its own write's answer, a round trip before the rollback can read it.
 * @example
 * const record = await rollbackVariable(session, 'temperature', 3, { updatedBy: 'ops' });
 */
export async function rollbackVariable(
  session: RollbackSession,
  name: string,
  version: number,
  options: { readonly updatedBy?: string },
): Promise<VariableRecord> {
  assertOptions(options, 'rollbackVariable');
  // Checked before it makes a store key: a bad name would be refused as the key, which the caller never wrote.
  assertVariableName(name);
  assertHistoryVersion(name, version);
  const reason = `rollback to version ${version}`;
  const key = variableKey(session.sessionId, name);
  let { record, entries } = await storedHistory(session, key, name);
  for (let attempt = 1; ; attempt++) {
    const entry = entryAtVersion(entries, name, version);
    assertRollbackType(entry, record);
    // Only onto the record the checks were made on: one deleted and defined again meanwhile never had that version,
    // and an import with `replace` keeps the id but may change the type. A write that got in first is no reason to
    // refuse: read again and check again.
    try {
      return await session.setVariable(name, entry.value, {
        ...options,
        reason,
        expectedId: record.id,
        expectedVersion: record.version,
      });
    } catch (error) {
      const movedOn = error instanceof VersionConflictError && error.details?.expectedId === undefined;
      if (!movedOn || attempt >= MAX_WRITE_ATTEMPTS) throw error;
    }
    await jitteredBackoff(attempt);
    // The record as the session holds it, as `updateVariable` reads it: the session plans its write on that record.
    // Against a writer on another node writing back to back it landed in 3 to 5 tries, where the bucket's newer
    // record, which the session has not heard of yet, took 2 to 21 (rollback-contention test, six runs each).
    const current = await session.describeFresh(name);
    // A write since changed the record, not the versions kept before it: those are read again (a walk of the key's
    // stream on a KV store) only for a variable defined again meanwhile.
    if (current.id === record.id) record = current;
    else ({ record, entries } = await storedHistory(session, key, name));
  }
}

/**
 * The variable's record and kept versions as the store has them, for a rollback: a rollback is a write, and a write
 * is not refused on a view that lags the store (see `refusalChecks`). The view may not hold a variable defined
 * through another node yet, or still hold the one it replaced, whose id no version of the new one carries.
 */
async function storedHistory(
  session: RollbackSession,
  key: string,
  name: string,
): Promise<{ record: VariableRecord; entries: VariableHistoryEntry[] }> {
  // A session that ended says so, as every other call does, before the store is asked about its variable.
  await session.live();
  const stored = await session.store.get(key);
  // Its name was checked before the first read: the miss is the variable's.
  if (!stored) throw new VariableNotFoundError(session.sessionId, name);
  return { record: stored.value, entries: historyOf(stored.value, await session.store.history(key)) };
}
