/**
 * The calls waiting for a reply, keyed by `callId`, with their timeouts. This is where GenServer.call's
 * guarantees live: one settlement per call, a late reply is dropped, and an exit fails every waiting caller.
 * @module
 */
import { CallTimeoutError, InternalError, ProcessExitedError, errorFromJSON } from '../errors.js';
import type { ReplyEvent } from '../../machines/protocol.js';
import { crashErrorOf, formatExitReason, type ExitReason } from './exit-reason.js';
import type { Process } from './process.js';

interface PendingCall {
  readonly process: Process;
  readonly target: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Tracks in-flight calls. Call ids are never reused, so once an entry is gone (timed out, or failed by an exit)
 * any reply carrying its id matches nothing and is dropped; it can never reach a later call.
 * @internal
 */
export class PendingCalls {
  readonly #calls = new Map<string, PendingCall>();
  readonly #byProcess = new Map<Process, Set<string>>();

  /**
   * Registers a call before its event is sent: a machine may reply synchronously inside `send`.
   * @param target how the caller named the target, for error messages
   */
  add(process: Process, callId: string, target: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // `Infinity` waits for ever; setTimeout would fire at once for it (and for anything over 2^31 - 1 ms).
      const timer =
        timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              if (this.#remove(callId))
                reject(new CallTimeoutError(target, timeoutMs, { details: { processId: process.id } }));
            }, timeoutMs);
      this.#calls.set(callId, { process, target, resolve, reject, timer });
      let ids = this.#byProcess.get(process);
      if (!ids) this.#byProcess.set(process, (ids = new Set()));
      ids.add(callId);
    });
  }

  /**
   * Settles the call a reply answers. Replies from another process, or for no waiting call, are dropped; a reply
   * that is not a well-formed `{ ok: true, value }` or `{ ok: false, error }` rejects the call with
   * {@link InternalError}.
   */
  settle(process: Process, reply: ReplyEvent): void {
    const call = this.#calls.get(reply.callId);
    if (!call || call.process !== process) return;
    this.#remove(reply.callId);
    // The call and its timer are gone from here on, so nothing below may throw past this: it would never settle.
    try {
      const { result } = reply as Partial<ReplyEvent>;
      if (result?.ok === true) return call.resolve(result.value);
      if (result?.ok === false) return call.reject(errorFromJSON(result.error));
      throw new Error("a reply's result is { ok: true, value } or { ok: false, error }");
    } catch (cause) {
      const why = cause instanceof Error ? `: ${cause.message}` : '';
      call.reject(
        new InternalError(`process '${call.target}' sent a malformed reply${why}`, {
          cause,
          details: { target: call.target, processId: process.id, callId: reply.callId },
        }),
      );
    }
  }

  /** Fails every call waiting on `process`, which has exited; the crash error, if any, becomes the cause. */
  failAll(process: Process, reason: ExitReason): void {
    const ids = this.#byProcess.get(process);
    if (!ids) return;
    for (const callId of [...ids]) {
      const call = this.#calls.get(callId);
      if (!call || !this.#remove(callId)) continue;
      call.reject(
        new ProcessExitedError(call.target, formatExitReason(reason), {
          cause: crashErrorOf(reason),
          details: { processId: process.id },
        }),
      );
    }
  }

  /** Whether any caller waits for a reply from `process`. */
  awaiting(process: Process): boolean {
    return this.#byProcess.has(process);
  }

  /** How many calls are waiting; for tests and introspection. */
  get size(): number {
    return this.#calls.size;
  }

  #remove(callId: string): boolean {
    const call = this.#calls.get(callId);
    if (!call) return false;
    clearTimeout(call.timer);
    this.#calls.delete(callId);
    const ids = this.#byProcess.get(call.process);
    ids?.delete(callId);
    if (ids?.size === 0) this.#byProcess.delete(call.process);
    return true;
  }
}
