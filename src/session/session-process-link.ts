/**
 * The tie between a Session handle and its session process: the committed variables read straight from a live
 * process, writes as calls to it, a crashed or hibernated process woken again on use (the store has every accepted
 * write), and the `SessionError` that says why a session ended (stopped, expired, deleted).
 * @module
 */
import type { WriteReply } from '../../machines/session.machine.js';
import { CallTimeoutError, NoProcError, ProcessExitedError, SessionError } from '../errors.js';
import type { VariableRecord } from '../variables/types.js';
import { frozenRequest } from './frozen-writes.js';
import type { SessionEnding, SessionHost, SessionProcess } from './session-host.js';
import type { WriteRequest } from './write-plan.js';

/** How many times one use wakes its session's process before it gives up (see `#wake`). */
const MAX_WAKES = 3;

/**
 * The `SessionError` a use of session `sessionId` (or of one of its modules) gets once the session ended as `ending`
 * says: `session_expired`, `session_not_found` once deleted, `session_stopped` otherwise.
 */
export function sessionEndedError(sessionId: string, ending: SessionEnding | undefined, cause?: unknown): SessionError {
  return new SessionError(
    ending === 'expired' ? 'session_expired' : ending === 'deleted' ? 'session_not_found' : 'session_stopped',
    sessionId,
    cause === undefined ? {} : { cause },
  );
}

/** The process one Session handle serves, and the uses of it that must know whether it is alive. */
export class SessionProcessLink {
  #process: SessionProcess;

  constructor(
    readonly sessionId: string,
    process: SessionProcess,
    private readonly host: SessionHost,
  ) {
    this.#process = process;
  }

  /** The process as it is now, alive or not. */
  get process(): SessionProcess {
    return this.#process;
  }

  /** The process, woken again when it crashed or hibernated; `SessionError` when the session ended. */
  async live(): Promise<SessionProcess> {
    return this.#liveNow() ?? this.#wake();
  }

  /**
   * A use of the session that does not pass through its process (a module's execution, which the node counts as
   * activity itself, with the process awake or not): where the session's life needs a check first (a NATS node whose
   * record of it is near its expiry), a promise that resolves once the use is stamped, or rejects with the
   * `SessionError` of a session that ended; `undefined` when nothing needs waiting for (no microtask on the hot path).
   * The process is not woken: a module may run while its session hibernates.
   */
  use(): Promise<unknown> | undefined {
    return this.host.fresh?.(this.sessionId, this.#process.incarnation);
  }

  /**
   * The process when it is alive and its life needs no check first (the usual case), counted as activity;
   * `undefined` when it takes {@link live}. A write on the hot path then awaits nothing before its call.
   */
  #liveNow(): SessionProcess | undefined {
    if (!this.#process.alive || this.host.stopped()) return undefined;
    this.host.touch(this.sessionId);
    return this.host.fresh?.(this.sessionId, this.#process.incarnation) === undefined ? this.#process : undefined;
  }

  async #wake(): Promise<SessionProcess> {
    // Refused before the process is asked: a use that reached it first would be served after an earlier one refused.
    if (this.host.stopped()) throw this.ended('stopped');
    for (let wakes = 1; ; wakes += 1) {
      if (!this.#process.alive) {
        const ending = this.#process.ending();
        // A crash or a hibernation loses nothing (the store has every accepted write): the next use wakes it.
        if (ending !== 'crashed' && ending !== 'hibernated') throw this.ended(ending);
        this.#process = await this.host.restart(this.sessionId, this.#process.incarnation, this.#process);
      }
      // Only a live session counts activity: an ended one must not re-enter the expiry sweep.
      this.host.touch(this.sessionId);
      await this.host.fresh?.(this.sessionId, this.#process.incarnation);
      // A stamp slower than the hibernation delay (a bucket slow to answer, a loaded node) lets the process hibernate
      // meanwhile: handing it out would fail the use with `noproc`. Wake it again (or say why the session ended), a
      // few times: a stamp that never beats the delay fails the use with `noproc` rather than keep it for ever.
      if (this.#process.alive || wakes >= MAX_WAKES) return this.#process;
    }
  }

  /** The `SessionError` that says why the session ended. */
  ended(ending: SessionEnding | undefined, cause?: unknown): SessionError {
    return sessionEndedError(this.sessionId, ending, cause);
  }

  /** The committed variables; no extra await on the hot path, where the process is alive. */
  variables(): ReadonlyMap<string, VariableRecord> | Promise<ReadonlyMap<string, VariableRecord>> {
    return this.variablesNow() ?? this.live().then((process) => process.context().variables);
  }

  /** The committed variables while the process is alive (a use that counts as activity); else `undefined`. */
  variablesNow(): ReadonlyMap<string, VariableRecord> | undefined {
    if (!this.#process.alive || this.host.stopped()) return undefined;
    this.host.touch(this.sessionId);
    return this.#process.context().variables;
  }

  /** Stops the process, if it is alive; one that exits meanwhile is stopped as asked. */
  async stop(): Promise<void> {
    if (!this.#process.alive) return;
    try {
      await this.#process.call({ type: 'stop' }, this.host.callTimeoutMs);
    } catch (error) {
      if (!(error instanceof NoProcError || error instanceof ProcessExitedError)) throw error;
    }
  }

  /**
   * Deletes the session of this process's life for good; a session that expired or was deleted already rejects with
   * why it ended, changing nothing.
   */
  async delete(): Promise<void> {
    const ending = this.#process.alive ? undefined : this.#process.ending();
    if (ending === 'expired' || ending === 'deleted') throw this.ended(ending);
    await this.host.deleteSession(this.sessionId, this.#process.incarnation, this.#process);
  }

  /** Has the process carry out a write; a session that ended meanwhile rejects with why it ended. */
  async write(request: WriteRequest): Promise<unknown> {
    const process = this.#liveNow() ?? (await this.#wake());
    try {
      // Frozen before any inspector is shown the event that carries it, and then the queue that keeps it.
      const event = { type: 'write', request: frozenRequest(request) } as const;
      const reply = (await process.call(event, this.host.writeTimeoutMs)) as WriteReply;
      return reply.value;
    } catch (error) {
      // Its wait ran out: a write not started yet is taken back (its caller is told it failed, so it must not land
      // later), one under way may land or not; the caller hears which, as a remote write's timeout says it.
      if (error instanceof CallTimeoutError) {
        const outcome = process.withdraw?.(request) ? 'not_applied' : 'unknown';
        const variable = request.kind === 'define' ? request.record.name : 'name' in request ? request.name : undefined;
        throw new CallTimeoutError(error.target, error.timeoutMs, {
          cause: error,
          details: { ...(variable === undefined ? {} : { variable }), outcome },
        });
      }
      // The process ended while the write waited: report why the session ended, not the process mechanics.
      if ((error instanceof NoProcError || error instanceof ProcessExitedError) && !process.alive) {
        const ending = process.ending();
        // Stopped from outside (`runtime.stopProcess`), a process does not finish the write it was carrying out, as
        // its own stop does: that write may be in the store. Those queued behind it were not started.
        if (ending === 'shutdown' && process.cutOff?.(request)) {
          throw new SessionError('session_stopped', this.sessionId, { cause: error, details: { outcome: 'unknown' } });
        }
        if (ending !== 'crashed' && ending !== 'hibernated') throw this.ended(ending, error);
      }
      throw error;
    }
  }
}
