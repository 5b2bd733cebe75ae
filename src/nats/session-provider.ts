/**
 * The seam between a node's session service and how the node runs its sessions: the service asks a provider for a
 * session by id and knows nothing else of the node (a node's comes from session-life.ts, a bare one from
 * session-directory.ts).
 * @module
 */
import type { SessionError } from '../errors.js';
import type { Session } from '../session/session.js';

/** What the service needs from a node: a session by id, opened (`create: true`) or only if it exists. */
export interface SessionProvider {
  /** Rejects with `SessionError('session_not_found')` when `create` is false and the session was never opened. */
  session(id: string, options: { readonly create: boolean }): Promise<Session>;
  /**
   * The session, opened; `created` when this call began the life the handle serves (its record is this call's), for
   * the `open` request to say so. A provider without it opens through {@link SessionProvider.session}, and says
   * nothing about who created the session.
   */
  open?(id: string): Promise<{ readonly session: Session; readonly created: boolean }>;
  /**
   * Deletes the session for good (only its life `incarnation`, when given; `session_not_found` when it does not
   * exist); a node without it cannot.
   */
  delete?(id: string, incarnation?: string): Promise<void>;
  /**
   * Why the life `incarnation` of the session is over, when this node knows (it heard the session end): the error a
   * request bound to that life gets (`session_expired`, or `session_not_found` for a deletion).
   */
  ended?(id: string, incarnation: string): SessionError | undefined;
}
