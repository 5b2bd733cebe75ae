/**
 * How one remote session handle's requests go out: refused at once once the handle was stopped (or its client
 * closed), carrying the life the handle is bound to (`Tether-Incarnation`), and their failures noted on the handle's
 * scope, so that one saying that life ended ends it for the handle and everything it gave out.
 * @module
 */
import { SessionError } from '../errors.js';
import { assertVariableName } from '../variables/names.js';
import { readVariablePages, type VariablesRead } from './paged-reads.js';
import type { VariableOperation } from './operations.js';
import type { RemoteTransport } from './remote-transport.js';
import type { SessionHandleScope } from './session-handle-scope.js';

/** The requests of one remote session handle, bound to its scope. */
export class SessionRequests {
  /** `scope`: the handle's, which names the session and the life its requests are for. */
  constructor(
    private readonly transport: RemoteTransport,
    private readonly scope: SessionHandleScope,
  ) {}

  /** A request of a variable operation of the session. */
  async variable(operation: VariableOperation, body: object): Promise<unknown> {
    // A stopped handle that goes on saying its session is gone judges the names first, as the embedded handle of a
    // session gone does, which the node would have done had the request gone out (no check built for any other call).
    this.scope.assertOpen(this.scope.stopped ? () => assertNamesOf(body) : undefined);
    const { name } = body as { name?: unknown };
    // A name that is no string is refused here with the embedded handle's error (the node would name the request's
    // field instead); a string is the node's to judge, by the same rule.
    if (Object.hasOwn(body, 'name') && typeof name !== 'string') assertVariableName(name);
    const subject = this.transport.subjects.variable(this.scope.sessionId, operation);
    return this.#heard(this.transport.request(subject, body, undefined, this.scope.incarnation));
  }

  /** A request of the session's modules on `subject` (a module's, or the list's). */
  async module(subject: string, body: object): Promise<unknown> {
    this.scope.assertOpen();
    return this.#heard(this.transport.moduleRequest(subject, body, undefined, this.scope.incarnation));
  }

  /**
   * The records matching `pattern`, each with the store revision its reply reported (a watch's starting point): in
   * one reply, or a page at a time when they do not fit in one (see paged-reads.ts).
   */
  async list(pattern: string): Promise<VariablesRead> {
    this.scope.assertOpen();
    const subject = this.transport.subjects.variable(this.scope.sessionId, 'list');
    return readVariablePages((after) =>
      this.#heard(
        this.transport.requestWithRevision(
          subject,
          after === undefined ? { pattern } : { pattern, after },
          undefined,
          false,
          this.scope.incarnation,
        ),
      ),
    );
  }

  /**
   * Deletes the session (see `RemoteSession.delete`): sent also by a stopped handle, not once the client closed; the
   * handle's life ends once it resolves.
   */
  async deleteSession(): Promise<void> {
    this.scope.assertClientOpen();
    const { sessionId } = this.scope;
    const subject = this.transport.subjects.deleteSession(sessionId);
    const settled = this.transport.deleting(sessionId);
    try {
      await this.#heard(this.transport.request(subject, {}, undefined, this.scope.incarnation));
    } catch (error) {
      settled(false);
      throw error;
    }
    settled(true);
    // What a request bound to the life it ended gets from then on.
    this.scope.endLife(
      new SessionError('session_not_found', sessionId, { details: { incarnation: this.scope.incarnation } }),
    );
  }

  /** `request`'s outcome; a failure saying this handle's life ended is noted first (see `RemoteModuleHandle.alive`). */
  #heard<T>(request: Promise<T>): Promise<T> {
    return request.catch((error: unknown) => {
      this.scope.heard(error);
      throw error;
    });
  }
}

/** Throws the embedded handle's `ValidationError` for a request body's `name` or `names` that is no variable name. */
function assertNamesOf(body: object): void {
  const { name, names } = body as { name?: unknown; names?: unknown };
  if (Object.hasOwn(body, 'name')) assertVariableName(name);
  if (Array.isArray(names)) names.forEach((each) => assertVariableName(each));
}
