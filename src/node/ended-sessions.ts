/**
 * What a node remembers of the sessions that ended on every node (deleted, or expired) while it had handles of them:
 * a handle whose process had already hibernated here learns why its session is gone (`session_expired` or
 * `session_not_found`) when it next wakes, not merely that its record is missing. Bounded: the oldest are let go.
 * @module
 */
import { SessionError } from '../errors.js';
import type { SessionEndReason } from '../nats/session-control.js';

/** How many ended lives a node remembers at most. */
const REMEMBERED = 10_000;

/** Ended lives of sessions, by session id. */
export class EndedSessions {
  readonly #ended = new Map<string, { readonly incarnation: string; readonly reason: SessionEndReason }>();

  /** The life `incarnation` of the session ended for `reason`. */
  remember(sessionId: string, incarnation: string, reason: SessionEndReason): void {
    this.#ended.delete(sessionId);
    this.#ended.set(sessionId, { incarnation, reason });
    if (this.#ended.size > REMEMBERED) this.#ended.delete(this.#ended.keys().next().value!);
  }

  /** The error a handle of the life `incarnation` gets, when that life is known to have ended. */
  errorFor(sessionId: string, incarnation: string | undefined): SessionError | undefined {
    const ended = this.#ended.get(sessionId);
    if (!ended || incarnation === undefined || ended.incarnation !== incarnation) return undefined;
    return new SessionError(ended.reason === 'expired' ? 'session_expired' : 'session_not_found', sessionId);
  }
}
