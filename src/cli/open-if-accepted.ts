/**
 * A write that may need its session created (`var define`, `module create`), made so that a refused one leaves no
 * session behind: the write goes first to the session as it is, unopened; only when the session is not there does the
 * command open it, and write again. Opening first, as these commands once did, created the session for a write the
 * node then refused.
 *
 * Nothing is created for a refused write, and nothing is ever removed: no other client's session can be lost to a
 * race. A node judges a write whose session is not there as a new, empty session would (define-judgement.ts, and
 * the module create of module-operations.ts) before it says so, so a write refused for its input is refused before
 * anything is opened, and `session_not_found` means it would be accepted. What can still refuse the second write is
 * the session someone else opened meanwhile (a variable or module of that name defined there first): theirs, and
 * kept.
 * @module
 */
import { isSessionGone } from '../errors.js';
import type { TetherClient } from '../nats/remote-client.js';
import type { RemoteSession } from '../nats/remote-session.js';

/**
 * `write` on `session` (a handle got with `create: false`); when the session is not there (never opened, deleted,
 * expired), `write` again on the session opened through `client`. Resolves to what `write` resolved to, with the
 * handle it was made on; rejects as `write` did when it was refused for anything else.
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
  return { result: await write(opened), session: opened };
}
