/**
 * Folds a store change into a session's view of its variables. Every change reaches a session this way: its
 * own committed writes, writes from other nodes, and the initial load. Changes are applied by revision, so a
 * change seen twice (a commit and its echo from the watcher) or late (older than what is known) is a no-op.
 *
 * One change has no revision: a key that a write, after losing a race, read with no message at all (an
 * {@link absentKey}). A session's own deletes leave a marker; a stream purge of the key from outside leaves nothing
 * (as the memory store's purge does), and the view must drop what it held there, or every retry of the write expects
 * it again.
 * @module
 */
import type { StoreChange } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import type { VariableChange } from './session-context.js';
import { missedDelete } from './variable-reads.js';

/** Records by name and the last store revision seen per name (deletes included, so a stale put loses). */
export interface VariablesView {
  readonly variables: ReadonlyMap<string, VariableRecord>;
  readonly revisions: ReadonlyMap<string, number>;
}

/** One sequence for every view, so that no two states of any views share a stamp. */
let lastStamp = 0;
const stamps = new WeakMap<ReadonlyMap<string, VariableRecord>, number>();

/**
 * A number that changes whenever `variables` changes, at the moment it changes, and that no other state of any
 * view ever has: whoever read the view at stamp S has read it as it still is while the stamp is S.
 */
export function stampOf(variables: ReadonlyMap<string, VariableRecord>): number {
  let stamp = stamps.get(variables);
  if (stamp === undefined) {
    stamp = ++lastStamp;
    stamps.set(variables, stamp);
  }
  return stamp;
}

/** The state of a key with no message at all, as a write that lost a race reads it: a delete at revision 0. */
export function absentKey(key: string): StoreChange<VariableRecord> {
  return { operation: 'delete', key, revision: 0 };
}

/** Whether `change` is an {@link absentKey}: no write has revision 0 (a store's revisions start at 1). */
function isAbsent(change: StoreChange<VariableRecord>): boolean {
  return change.revision === 0;
}

/**
 * Applies store changes for the session `sessionId` to its view, in place, and returns what watchers must be
 * told, in order.
 *
 * `planned` is given for what a write read after losing a race: the revision each key of the write was planned on
 * (its expected revision). A key read {@link absentKey} is dropped, its revision forgotten, only while the view still
 * holds it at that revision: a change of the key routed here after the read (a define on another node) is newer.
 *
 * In place because the view belongs to one session process and every read of it is synchronous (reads never
 * hold it across an await): copying both maps per change made each routed update cost O(variables), about a
 * tenth of a node's routing time at 64 variables, and more with every variable a session holds.
 */
export function applyStoreChanges(
  view: VariablesView,
  sessionId: string,
  changes: readonly StoreChange<VariableRecord>[],
  planned?: ReadonlyMap<string, number>,
): VariableChange[] {
  const variables = view.variables as Map<string, VariableRecord>;
  const revisions = view.revisions as Map<string, number>;
  const announced: VariableChange[] = [];
  const prefixLength = sessionId.length + 1;
  for (const storeChange of changes) {
    const name = storeChange.key.slice(prefixLength);
    if (!foldsIn(revisions, name, storeChange, planned)) continue;
    const before = variables.get(name);
    // An absent key's revision is forgotten, not set to 0: a write expecting it absent expects no message, as the
    // store has none.
    if (isAbsent(storeChange)) revisions.delete(name);
    else revisions.set(name, storeChange.revision);
    stamps.set(variables, ++lastStamp);
    if (storeChange.operation === 'put') {
      const after = storeChange.value;
      variables.set(name, after);
      // A lock changes the record but not the value: watchers hear only of value writes.
      if (!before || before.id !== after.id || before.version !== after.version) {
        // Another variable of the name: the view missed its predecessor's delete (and maybe writes before it).
        // Watchers hear of that delete first, as a remote watch tells a missed one, so that no value of the old
        // variable is ever handed over as the new one's old value.
        const replaced = before !== undefined && before.id !== after.id;
        if (replaced) announced.push(missedDelete(name, before));
        // Versions skipped: the view missed writes in between (a node whose watch lagged past a conflicting write's
        // wait folds in what it read from the store). Watchers are told so, as a remote watch tells them.
        const skipped = replaced ? after.version > 1 : before !== undefined && after.version > before.version + 1;
        announced.push({
          name,
          oldValue: skipped || replaced ? undefined : before?.value,
          newValue: after.value,
          version: after.version,
          updatedBy: after.updatedBy,
          ...(skipped ? { gap: true as const } : {}),
        });
      }
    } else if (before) {
      variables.delete(name);
      announced.push({
        name,
        oldValue: before.value,
        newValue: undefined,
        version: before.version + 1,
        updatedBy: storeChange.updatedBy ?? null,
        deleted: true,
      });
    }
  }
  return announced;
}

/**
 * Whether {@link applyStoreChanges} folds in `change`: one past the name's revision, or an absent key while the view
 * holds the name at the revision `planned` has for the key.
 */
function foldsIn(
  revisions: ReadonlyMap<string, number>,
  name: string,
  change: StoreChange<VariableRecord>,
  planned: ReadonlyMap<string, number> | undefined,
): boolean {
  if (!isAbsent(change)) return isNews(revisions, name, change);
  const known = revisions.get(name);
  return known !== undefined && planned?.get(change.key) === known;
}

/** Whether `view` has not folded in `change` yet (its revision is past the name's). */
function isNews(revisions: ReadonlyMap<string, number>, name: string, change: StoreChange<VariableRecord>): boolean {
  return change.revision > (revisions.get(name) ?? 0);
}

/**
 * Whether {@link applyStoreChanges} would fold in any of `changes`. None is news when a node's watch brings back
 * the node's own write, which the commit already applied: the router does not disturb the session with them.
 */
export function hasNews(
  view: VariablesView,
  sessionId: string,
  changes: readonly StoreChange<VariableRecord>[],
): boolean {
  const prefixLength = sessionId.length + 1;
  return changes.some((change) => isNews(view.revisions, change.key.slice(prefixLength), change));
}
