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

/** Ended lives of sessions, by session id and life: each of an id's ended lives, not only its last. */
export class EndedSessions {
  readonly #ended = new Map<string, SessionEndReason>();

  /** The life `incarnation` of the session ended for `reason`. */
  remember(sessionId: string, incarnation: string, reason: SessionEndReason): void {
    const key = lifeKey(sessionId, incarnation);
    this.#ended.delete(key);
    this.#ended.set(key, reason);
    if (this.#ended.size > REMEMBERED) this.#ended.delete(this.#ended.keys().next().value!);
  }

  /** The error a handle of the life `incarnation` gets, when that life is known to have ended. */
  errorFor(sessionId: string, incarnation: string | undefined): SessionError | undefined {
    const reason = incarnation === undefined ? undefined : this.#ended.get(lifeKey(sessionId, incarnation));
    if (reason === undefined) return undefined;
    return new SessionError(reason === 'expired' ? 'session_expired' : 'session_not_found', sessionId);
  }
}

/** One key per life: a session id holds no white space, so the space cannot be part of it. */
function lifeKey(sessionId: string, incarnation: string): string {
  return `${sessionId} ${incarnation}`;
}
