/**
 * The read-modify-write loop behind `updateVariable`, shared by the embedded and the remote session: read the
 * record, apply the function, write with the version and id read as `expectedVersion` and `expectedId`, and start
 * again when another writer got in first (or the variable was defined again).
 * @module
 */
import { ValidationError, VersionConflictError } from '../errors.js';
import type { VariableRecord } from '../variables/types.js';
import { assertUpdateFunction } from './argument-checks.js';
import { assertOptions } from './options.js';
import type { SerialTasks } from './serial-tasks.js';

/** How many times `updateVariable` re-reads and retries after another writer got in first. */
export const UPDATE_ATTEMPTS = 1000;

/**
 * The pause before retry `attempt`: full jitter up to 2^attempt ms, at most 50 ms, so that writers racing from
 * different nodes or clients spread out instead of colliding again on the next version.
 */
export function jitteredBackoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
}

/**
 * Applies `fn` to the value `read` returns and `write`s the result conditioned on the record read; on a
 * `VersionConflictError` it waits for `backoff` (if given) and tries again, `attempts` times in all. Any other
 * error, and the last conflict, is thrown.
 * @example
 * const record = await updateWithRetry(
 *   () => session.describeFresh('count'),
 *   (value, read) => session.setVariable('count', value, { expectedVersion: read.version, expectedId: read.id }),
 *   (count) => (count as number) + 1,
 *   1000,
 * );
 */
export async function updateWithRetry(
  read: () => Promise<VariableRecord>,
  write: (value: unknown, read: VariableRecord) => Promise<VariableRecord>,
  fn: (value: unknown) => unknown,
  attempts: number,
  backoff?: (attempt: number) => Promise<void>,
): Promise<VariableRecord> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    const next = await fn(current.value);
    try {
      return await write(next, current);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
      await backoff?.(attempt);
    }
  }
}

/** What `updateVariable` needs of a session handle, embedded or remote. */
export interface UpdatableSession {
  readonly sessionId: string;
  /** The record, read from the store when the session's view does not hold it (a define not routed here yet). */
  describeFresh(name: string): Promise<VariableRecord>;
  setVariable(
    name: string,
    value: unknown,
    options: {
      readonly expectedVersion: number;
      readonly expectedId: string;
      readonly updatedBy?: string;
      readonly reason?: string;
    },
  ): Promise<VariableRecord>;
}

/**
 * `updateVariable` of either handle: the read-modify-write loop, in turn with the other updates of the same
 * variable queued on `turns`, backing off with jitter when a writer elsewhere got in first. So a slow `fn` holds
 * up the updates of that variable queued behind it, and an `fn` that updates its own variable before it has
 * settled is refused with a `ValidationError` (it would wait for itself), as is an `fn` that is no function (before
 * anything is read). A listener told of the update's write, or a timer `fn` left behind, updates it as anyone does.
 */
export async function updateVariableInTurn(
  turns: SerialTasks,
  session: UpdatableSession,
  name: string,
  fn: (value: unknown) => unknown,
  options: { readonly updatedBy?: string; readonly reason?: string },
): Promise<VariableRecord> {
  // Here, for the embedded and the remote session alike: the version is the update's own to choose.
  assertOptions(options, 'updateVariable');
  assertUpdateFunction(name, fn);
  const key = `${session.sessionId}\u0000${name}`;
  return turns.run(
    key,
    () =>
      updateWithRetry(
        () => session.describeFresh(name),
        // The identity too: a variable deleted and defined again meanwhile starts again at the version read.
        (next, read) =>
          session.setVariable(name, next, { ...options, expectedVersion: read.version, expectedId: read.id }),
        (value) => turns.hold(key, () => fn(value)),
        UPDATE_ATTEMPTS,
        jitteredBackoff,
      ),
    () =>
      new ValidationError(
        `updateVariable of '${name}' was called from inside an update function of '${name}', which would wait for itself`,
        { variable: name, details: { sessionId: session.sessionId } },
      ),
  );
}
