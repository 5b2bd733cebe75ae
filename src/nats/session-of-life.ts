/**
 * Binding a request to one life of its session (the `Tether-Incarnation` header), for every endpoint that reaches
 * a session: the session requests (session-request.ts) and the module requests (module-service.ts) check it alike.
 * A request of a handle opened on another life than the current one is refused as `session_not_found`, or
 * `session_expired` when this node heard that life expire; a request without the header addresses the current
 * life, whichever it is (the CLI, clients in other languages, handles got with `create: false`).
 * @module
 */
import type { MsgHdrs } from 'nats';
import { SessionError, isSessionGone } from '../errors.js';
import type { Session } from '../session/session.js';
import type { SessionProvider } from './session-provider.js';
import { INCARNATION_HEADER } from './wire.js';

/** The life of the session a request is bound to, or `undefined` when it names none (an empty header counts as none). */
export function lifeOf(headers: MsgHdrs | undefined): string | undefined {
  return headers?.get(INCARNATION_HEADER) || undefined;
}

/**
 * What a request bound to the life `life` gets when its session is not found: `session_expired` when this node
 * knows that life expired; otherwise `session_not_found` naming that life (`details.incarnation`), as the session
 * may well be there, in another life.
 */
export function endedLife(
  provider: SessionProvider,
  sessionId: string,
  life: string | undefined,
  error: unknown,
): unknown {
  if (life === undefined || !(error instanceof SessionError) || error.code !== 'session_not_found') return error;
  const ended = provider.ended?.(sessionId, life) ?? error;
  if (ended.code !== 'session_not_found') return ended;
  return new SessionError('session_not_found', sessionId, { cause: ended, details: { incarnation: life } });
}

/**
 * Whether a request naming the life `life` failed for its session not being there: it names no life (a handle got
 * without opening, the CLI, another language) and the session is not found or expired. A write that failed so is
 * judged as in a new, empty session before that is said (define-judgement.ts, and a module create in
 * module-operations.ts); one whose handle's life ended hears of that alone.
 */
export function sessionNotThere(error: unknown, life: string | undefined): boolean {
  return life === undefined && isSessionGone(error);
}

/**
 * The session `sessionId` from `provider`, if its current life is `life` (any life when `undefined`). Otherwise
 * rejects with `SessionError`: `session_expired` when this node heard that life expire, `session_not_found` when
 * the session is gone or is another life now, so a handle of an ended life never reaches the id's next one.
 */
export async function sessionOfLife(
  provider: SessionProvider,
  sessionId: string,
  life: string | undefined,
  options: { readonly create: boolean },
): Promise<Session> {
  // A life this node heard end is refused before the session is opened: opening it is a use of the id's current
  // life, and a forgotten handle of the ended one, still polled, would keep that life from ever expiring.
  const ended = life === undefined ? undefined : provider.ended?.(sessionId, life);
  if (ended) throw endedLife(provider, sessionId, life, ended);
  const session = await provider.session(sessionId, options).catch((error: unknown) => {
    throw endedLife(provider, sessionId, life, error);
  });
  // A session with no known life (its record predates them) cannot be told apart from another: it is served.
  if (life !== undefined && session.incarnation !== undefined && session.incarnation !== life)
    throw endedLife(provider, sessionId, life, new SessionError('session_not_found', sessionId));
  return session;
}
