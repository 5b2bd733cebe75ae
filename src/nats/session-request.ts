/**
 * What a session request does on a node, from its body to its reply: `open`, `session.delete` and the variable
 * operations. Checks the payload and the session id, waits for the revision the client has seen, finds the session
 * (or deletes it) through the provider, holds a request bound to another life of the session as not found
 * (`session_expired` when the node knows that life expired), runs the operation, and replies with
 * `{ result, revision }` once the events of its writes are queued. A `define` whose session is not there has its
 * input judged before that is said (define-judgement.ts).
 * @module
 */
import { BridgeError, ValidationError, isSessionGone } from '../errors.js';
import { assertSessionId } from '../variables/names.js';
import type { ServiceRequest } from './service-endpoint.js';
import type { SessionProvider } from './session-provider.js';
import { PAGE_OVERHEAD_BYTES } from './fitted-page.js';
import { OPERATIONS } from './session-operations.js';
import type { VariableOperation } from './operations.js';
import type { TetherSubjects } from './subjects.js';
import type { TrackingStore } from './tracking-store.js';
import { endedLife, lifeOf, sessionNotThere, sessionOfLife } from './session-of-life.js';
import { assertFields } from './request-fields.js';
import { untagRequest } from './untag-value.js';
import { judgeDefine } from './define-judgement.js';
import { goneSession } from './gone-session.js';
import { MIN_REVISION_HEADER, decodeRequest, encodeReply, type RequestBody } from './wire.js';

/** The requests of a session endpoint. */
export type SessionRequestOperation = VariableOperation | 'open' | 'session.delete';

/** What {@link createSessionRequests} serves with. */
export interface SessionRequestDeps {
  /** The only way in to the node's sessions. */
  readonly provider: SessionProvider;
  readonly store: TrackingStore;
  readonly subjects: TetherSubjects;
  /** Largest request body. */
  readonly maxBytes: number;
  /** Rejects a bad `Tether-Min-Revision` header, or waits for its revision; `undefined` when it is applied. */
  readonly awaitRevision: (header: string | undefined) => Promise<void> | undefined;
  /** The largest encoded record the node's store takes (see define-judgement.ts); no limit when undefined. */
  readonly recordLimit?: number | undefined;
  /** The largest message the server takes now (its `max_payload`): what a paged reply must fit in. */
  readonly replyLimit: () => number;
}

/**
 * Creates the function serving one session request; it resolves to the reply bytes and rejects with what becomes
 * the error reply.
 */
export function createSessionRequests(
  deps: SessionRequestDeps,
): (msg: ServiceRequest, operation: SessionRequestOperation) => Promise<Uint8Array> {
  const { provider, store, subjects, maxBytes, awaitRevision, recordLimit, replyLimit } = deps;

  /** Everything one request does; resolves to the reply bytes, rejects with what becomes the error reply. */
  async function serve(msg: ServiceRequest, operation: SessionRequestOperation): Promise<Uint8Array> {
    const body = decodeRequest(msg.data, maxBytes);
    if (operation === 'open' || operation === 'session.delete')
      assertFields(body, [], operation === 'open' ? 'open' : 'delete');
    const parsed = subjects.parseRequest(msg.subject);
    if (!parsed) throw new ValidationError(`subject '${msg.subject.slice(0, 200)}' names no operation`);
    assertSessionId(parsed.sessionId);
    const waiting = awaitRevision(msg.headers?.get(MIN_REVISION_HEADER));
    if (waiting) await waiting;
    // The life of the session the caller's handle was opened on, when it says: another life is not its session.
    const life = operation === 'open' ? undefined : lifeOf(msg.headers);
    if (operation === 'session.delete') {
      if (!provider.delete) throw new BridgeError('this node cannot delete sessions');
      await provider.delete(parsed.sessionId, life).catch((error: unknown) => {
        throw endedLife(provider, parsed.sessionId, life, error);
      });
      return encodeReply({ deleted: true }, store.highestRevision);
    }
    let result: unknown;
    try {
      result = await answer(body, operation, parsed.sessionId, life);
    } catch (error) {
      // A define whose session is not there is judged first: bad input gets its own error, so `session_not_found`
      // tells a client that it may open the session for this define (see define-judgement.ts).
      if (operation === 'define' && sessionNotThere(error, life)) judgeDefine(body, recordLimit);
      throw error;
    }
    // A write whose old value the node had to look up in the history has its event queued only once the lookup is
    // done: the reply waits for it, so no acknowledged write's event can be lost with the node (or come after it).
    const announcing = store.settled();
    if (announcing) await announcing;
    // The highest revision this node knows: at least the write just made, and every change its reads reflect.
    return encodeReply(result, store.highestRevision);
  }

  /** The result of `operation` on the session, once found (opened, for `open`). */
  async function answer(
    body: RequestBody,
    operation: Exclude<SessionRequestOperation, 'session.delete'>,
    sessionId: string,
    life: string | undefined,
  ): Promise<unknown> {
    if (operation === 'open') return opened(sessionId);
    // A session that is gone still has the operation run, on a stand-in that refuses its first call: the request's
    // fields are judged first, as an embedded handle judges its arguments before it says the session is gone.
    const session = await sessionOfLife(provider, sessionId, life, { create: false }).catch((error: unknown) => {
      if (isSessionGone(error)) return goneSession(sessionId, error);
      throw error;
    });
    return OPERATIONS[operation](session, untagRequest(body), replyLimit() - PAGE_OVERHEAD_BYTES);
  }

  /**
   * The result of `open`: the life opened, and whether this request began it (`created`), which a client that opened
   * the session only for a write tells by, to remove it again if the write is refused (see `open` in
   * docs/protocol.md).
   */
  async function opened(sessionId: string): Promise<Record<string, unknown>> {
    const { session, created } = provider.open
      ? await provider.open(sessionId)
      : { session: await provider.session(sessionId, { create: true }), created: undefined };
    return {
      sessionId: session.sessionId,
      ...(session.incarnation === undefined ? {} : { incarnation: session.incarnation }),
      ...(created === undefined ? {} : { created }),
    };
  }

  return serve;
}
