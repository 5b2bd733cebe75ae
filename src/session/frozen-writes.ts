/**
 * A session process's writes, and the store changes it is sent, frozen. Every snapshot of the process carries its
 * queued writes and the plan in flight, and an inspector is handed those very objects (a copy per snapshot would cost
 * every write): an inspector that masked a queued value for display (`write.request.value = '***'`) wrote the mask,
 * and one that trimmed the queue it showed dropped a caller's write. The store's answers (`store.loaded`,
 * `store.changed`, `store.conflict`, `store.committed`) are shown to it before the process applies them, so a masker
 * that put a masked copy of a record in their list made the process hold the mask. Frozen, they are the process's to
 * read and nobody's to change, as a module's mailbox is.
 *
 * Shallow where the parts are frozen already: a value or record in a request is frozen when the request is built
 * (value-as-called.ts, record.ts), so freezing a write costs a few `Object.freeze` calls, whatever its values hold.
 * @module
 */
import type { WritePlan, WriteRequest } from './write-plan.js';

/** `request` frozen with its lists (a batch's pairs, an import's records and ids); its values are frozen already. */
export function frozenRequest(request: WriteRequest): WriteRequest {
  if (request.kind === 'setMany') {
    for (const pair of request.values) Object.freeze(pair);
    Object.freeze(request.values);
  } else if (request.kind === 'import') {
    Object.freeze(request.records);
    Object.freeze(request.ids);
  }
  return Object.freeze(request);
}

/** `plan` frozen with its writes, checks and refusal; the records it writes are frozen already. */
export function frozenPlan(plan: WritePlan): WritePlan {
  for (const write of plan.writes) Object.freeze(write);
  if (plan.refusal) Object.freeze(plan.refusal);
  Object.freeze(plan.writes);
  if (plan.checks) freezeChecks(plan.checks);
  if (plan.confirmFirst) freezeChecks(plan.confirmFirst);
  return Object.freeze(plan);
}

function freezeChecks(checks: WritePlan['checks'] & object): void {
  for (const check of checks) Object.freeze(check);
  Object.freeze(checks);
}

/**
 * `changes` (a store's changes or entries, as a session process is sent them) frozen with each change; their records
 * are frozen already. The list must be the process's own (not a store's buffer): it is frozen in place.
 */
export function frozenChanges<C extends object>(changes: readonly C[]): readonly C[] {
  for (const change of changes) Object.freeze(change);
  return Object.freeze(changes);
}
