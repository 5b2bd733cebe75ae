/**
 * What a remote session handle shares with the module handles and the watches it gave out: its `stop()`, after which
 * they all refuse calls with the `SessionError` (`session_stopped`) an embedded handle gives after its `stop()`, and
 * deliver nothing more; its client's `close()`, after which they refuse calls with the `session_stopped` an embedded
 * handle gives once its runtime stopped; and, for a handle bound to a life, whether this client heard that life end
 * (its module handles are then not `alive`). Nothing of it reaches the nodes: a remote handle holds no process there.
 * @module
 */
import { SessionError, isSessionGone } from '../errors.js';

/** What every handle of one remote client shares: whether the client's `close()` was called. */
export class ClientState {
  #closed = false;

  /** Whether `close()` was called (not whether NATS gave up on the connection: that is the network's, not a stop). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Called as `close()` begins: calls made from then on are refused at once rather than sent into the closing. */
  close(): void {
    this.#closed = true;
  }

  /**
   * The error of a call on a handle of session `sessionId` once the client closed: an embedded handle's once its
   * runtime stopped (`session_stopped`), with `details.client: 'closed'`. Nothing was sent.
   */
  closedError(sessionId: string): SessionError {
    return new SessionError('session_stopped', sessionId, { details: { client: 'closed' } });
  }
}

/** The client-side state of one remote session handle and of everything it gave out. */
export class SessionHandleScope {
  #stopped = false;
  #lifeEnded = false;
  /** How this client heard the bound life end before the handle was stopped: its calls go on saying so after. */
  #endHeard: SessionError | undefined;
  /** The watches and module listeners to end at `stop()`. */
  readonly #ends = new Set<() => void>();

  /**
   * `incarnation`: the life the handle is bound to, `undefined` for one that addresses whichever is current;
   * `client`: the state of the client that gave the handle out.
   */
  constructor(
    readonly sessionId: string,
    readonly incarnation: string | undefined,
    private readonly client: ClientState = new ClientState(),
  ) {}

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Whether nothing of the handle may reach the nodes any more: it was stopped, or its client closed. */
  get done(): boolean {
    return this.#stopped || this.client.closed;
  }

  /**
   * Whether this client heard the life the handle is bound to end (deleted or expired): it never comes back, so
   * nothing of the handle reaches a module again. Always false for a handle bound to no life: its id may be opened
   * again, and the handle then addresses that life.
   */
  get lifeEnded(): boolean {
    return this.#lifeEnded;
  }

  /** The error of a call on a stopped handle: the embedded one's after `stop()`, saying it is the handle's. */
  stoppedError(): SessionError {
    return new SessionError('session_stopped', this.sessionId, { details: { handle: 'stopped' } });
  }

  /**
   * Throws {@link stoppedError} once stopped, and the client's closed error once it closed: checked before anything
   * is sent. `judge` checks the call's arguments where the handle goes on saying its session is gone: an embedded
   * handle of a session gone refuses a bad argument first (src/session/arguments-first.ts), and, once stopped, this
   * one has no node left to refuse it.
   */
  assertOpen(judge?: () => void): void {
    if (this.#stopped) {
      if (!this.#endHeard) throw this.stoppedError();
      judge?.();
      throw copy(this.#endHeard);
    }
    this.assertClientOpen();
  }

  /** Throws the client's closed error once it closed (a stopped handle still deletes its session, a closed one not). */
  assertClientOpen(): void {
    if (this.client.closed) throw this.client.closedError(this.sessionId);
  }

  /** Takes note of a request's failure: one that says the bound life is gone ends it for good. */
  heard(error: unknown): void {
    if (isSessionGone(error)) this.endLife(error);
  }

  /**
   * The bound life ended: its deletion resolved here (`why`: the `session_not_found` a request bound to it then
   * gets), a request heard it (`why`: that request's error), or its end event was heard (`why` unknown). What ended
   * it before a stop is what a call says after it, as an embedded handle of a session gone goes on saying so once
   * stopped; after a stop, the stop stands, as there.
   */
  endLife(why?: SessionError): void {
    if (this.incarnation === undefined) return;
    this.#lifeEnded = true;
    if (!this.#stopped) this.#endHeard ??= why;
  }

  /** Registers `end`, called once at {@link stop} (at once when stopped already); returns its remover. */
  track(end: () => void): () => void {
    if (this.#stopped) {
      end();
      return () => {};
    }
    this.#ends.add(end);
    return () => void this.#ends.delete(end);
  }

  /** Stops the handle and ends what it gave out; a second call does nothing. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const ends = [...this.#ends];
    this.#ends.clear();
    for (const end of ends) end();
  }
}

/** A new error saying what `error` says, so that each call rejects with its own (and its own stack). */
function copy(error: SessionError): SessionError {
  return new SessionError(error.code, error.sessionId, { details: error.details });
}
