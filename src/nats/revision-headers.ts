/**
 * The read-your-writes headers of a service request: `Tether-Min-Revision` (and `Tether-Min-Modules-Revision`)
 * name a revision the client has seen; the node answers only once it has applied it, or refuses with
 * `call_timeout` naming it rather than answer from an older state.
 * @module
 */
import { CallTimeoutError, ValidationError } from '../errors.js';
import type { AppliedRevisions } from './revision-waiters.js';

/** The revision a header (`name`) asks for, `undefined` without one; `ValidationError` unless a whole number. */
export function revisionIn(header: string | undefined, name: string): number | undefined {
  if (header === undefined || header === '') return undefined;
  const revision = Number(header);
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError(`header ${name} must be a whole number, got '${header.slice(0, 40)}'`, {
      details: { constraint: name },
    });
  }
  return revision;
}

/**
 * Waits (up to `waitMs`) until `revisions` has applied `revision`, else `call_timeout` naming it (`what`);
 * `undefined` when it has.
 */
export function awaitApplied(
  revision: number,
  revisions: AppliedRevisions,
  what: string,
  waitMs: number,
): Promise<void> | undefined {
  // No await when nothing is to wait for: most requests carry a revision this node has applied long ago.
  if (revisions.appliedRevision >= revision) return undefined;
  // Refusing rather than answering from an older state: the client asked for this revision because it has seen it.
  // A revision above the bucket's last one is refused instead of waited out (`revision_unknown`, see
  // revision-waiters.ts).
  return revisions.waitForRevision(revision, waitMs).then((applied) => {
    if (!applied) {
      throw new CallTimeoutError(`${what} ${revision}`, waitMs, {
        details: { minRevision: revision, appliedRevision: revisions.appliedRevision },
      });
    }
  });
}
