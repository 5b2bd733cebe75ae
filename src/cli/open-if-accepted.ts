/**
 * A write that may need its session created (`var define`, `module create`), made so that a refused one leaves no
 * session behind: the write goes first to the session as it is, unopened; only when the session is not there does the
 * command open it, and write again. Opening first, as these commands once did, created the session for a write the
 * node then refused.
 *
 * A node judges a write whose session is not there as a new, empty session would (define-judgement.ts, and the module
 * create of module-operations.ts) before it says so, so a write refused for its input is refused before anything is
 * opened, and `session_not_found` means it would be accepted. What it cannot judge then is the store: a JetStream
 * account with room for the session's record but not for the variable refuses the second write
 * (`store_limit_reached`) after the open. So a second write refused with nothing applied removes the session again,
 * if it is this command's to remove: its open began the session's life (`created`), the deletion names that life (a
 * later one of the id is never removed), and the session still holds nothing (a client that opened it meanwhile and
 * wrote there keeps it). Otherwise the session stays: the one someone else opened, or one the write may have reached.
 * The check and the deletion are two requests, and no node can make them one (another node may take a write to the
 * session between them): what another client puts there in that instant goes with the session. Rare by nature: on an
 * account too full for this command's write, theirs is unlikely to find room either; and an empty session left behind
 * would break the promise that a refused write changes nothing.
 * @module
 */
import { BridgeError, isSessionGone } from '../errors.js';
import type { TetherClient } from '../nats/remote-client.js';
import type { RemoteSession } from '../nats/remote-session.js';

/**
 * `write` on `session` (a handle got with `create: false`); when the session is not there (never opened, deleted,
 * expired), `write` again on the session opened through `client`. Resolves to what `write` resolved to, with the
 * handle it was made on; rejects as `write` did when it was refused for anything else, after removing the session
 * this call opened for it when nothing of it was applied (see the module comment).
 * @example
 * const { result } = await openIfAccepted(client, session, (s) => s.defineVariable('x', 'integer', 1));
 */
export async function openIfAccepted<T>(
  client: TetherClient,
  session: RemoteSession,
  write: (session: RemoteSession) => Promise<T>,
): Promise<{ readonly result: T; readonly session: RemoteSession }> {
  try {
    return { result: await write(session), session };
  } catch (error) {
    // A handle of no life hears `session_expired` too.
    if (!isSessionGone(error)) throw error;
  }
  // Opened only now, by this command unless another client did meanwhile.
  const opened = await client.session(session.sessionId);
  try {
    return { result: await write(opened), session: opened };
  } catch (error) {
    if (opened.created && appliedNothing(error)) await removeIfUnused(opened);
    throw error;
  }
}

/**
 * Whether `error` says its write changed nothing: `details.outcome: 'not_applied'`, or a refusal, which changes
 * nothing (README). Not an outcome `unknown` (it may land yet), nor an `internal_error` or `payload_too_large`, which
 * may come after the work was done, nor an error that is no Tether error.
 */
function appliedNothing(error: unknown): boolean {
  if (!(error instanceof BridgeError)) return false;
  const { outcome } = error.details;
  if (outcome !== undefined) return outcome === 'not_applied';
  return error.code !== 'internal_error' && error.code !== 'payload_too_large';
}

/**
 * Deletes the life of the session `session` is bound to, unless it holds a variable or a module: another client's
 * since this command opened it. A removal that fails leaves the session as it is; the refusal the command was about to
 * give (the write's, or `var watch`'s session_not_found) is still what it says.
 */
export async function removeIfUnused(session: RemoteSession): Promise<void> {
  try {
    const [variables, modules] = await Promise.all([session.listVariables(), session.modules()]);
    if (variables.length > 0 || modules.length > 0) return;
    // Bound to the life this command's open began (`Tether-Incarnation`): a later life of the id is not touched.
    await session.delete();
  } catch {
    // Gone already (someone deleted it), or NATS refused the removal too: nothing more this command can do.
  }
}
