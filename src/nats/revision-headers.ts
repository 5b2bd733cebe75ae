/**
 * The read-your-writes headers of a service request: `Tether-Min-Revision` (and `Tether-Min-Modules-Revision`)
 * name a revision the client has seen; the node answers only once it has applied it, or refuses with
 * `call_timeout` naming it rather than answer from an older state.
 * @module
 */
import { CallTimeoutError, ValidationError } from '../errors.js';
import type { AppliedRevisions } from './revision-waiters.js';

/**
 * What a revision header may hold: decimal digits only, as a revision is written (a reply's `revision`). Leading
 * zeros are allowed (`007` is 7: still a whole number in decimal). `Number()` would also take a sign, spaces, a
 * fraction part, an exponent, and hex, octal or binary (`0x10`, `0o7`, `0b11`), each a client mistake to refuse
 * rather than read as some other revision.
 */
const DECIMAL = /^[0-9]+$/;

/**
 * The revision a header (`name`) asks for, `undefined` without one (or with an empty one).
 * @throws {ValidationError} naming the header unless it is a whole number in decimal digits, at most
 *   `Number.MAX_SAFE_INTEGER`
 */
export function revisionIn(header: string | undefined, name: string): number | undefined {
  if (header === undefined || header === '') return undefined;
  const revision = DECIMAL.test(header) ? Number(header) : Number.NaN;
  if (!Number.isSafeInteger(revision)) {
    throw new ValidationError(
      `header ${name} must be a whole number in decimal digits (0 to ${Number.MAX_SAFE_INTEGER}), got '${header.slice(0, 40)}'`,
      { details: { constraint: name } },
    );
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
        // Refused before anything of the request was done.
        details: { minRevision: revision, appliedRevision: revisions.appliedRevision, outcome: 'not_applied' },
      });
    }
  });
}
