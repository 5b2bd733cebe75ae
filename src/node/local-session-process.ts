/**
 * A session process of this node as the Session handle sees it, and how its ending reads: the small adapter
 * between the process registry and the session layer.
 * @module
 */
import type { EventObject } from 'xstate';
import type { SessionMachineContext } from '../../machines/session.machine.js';
import { hasStarted } from '../../machines/session.writes.js';
import { NoProcError } from '../errors.js';
import { isCrash, type ExitReason } from '../runtime/exit-reason.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { SessionEnding, SessionProcess } from '../session/session-host.js';
import type { SessionLogic } from '../session/session-logic.js';
import type { WriteRequest } from '../session/write-plan.js';

/** The committed ending of a session process, as the handle reports it. */
export function endingOf(process: ProcessRef<SessionLogic>): SessionEnding | undefined {
  const reason: ExitReason | undefined = process.exitReason;
  if (reason === undefined) return undefined;
  // A process a link took down is judged by the reason that came along it, as in Erlang: a user's crashed worker
  // linked to the session's process crashed it, and nobody stopped the session (its handles, watchers and modules go
  // on, and its next use starts it again).
  if (isCrash(typeof reason === 'object' && 'linked' in reason ? reason.reason : reason)) return 'crashed';
  const state = process.getSnapshot().value;
  if (
    reason === 'normal' &&
    (state === 'expired' || state === 'hibernated' || state === 'stopped' || state === 'deleted' || state === 'failed')
  )
    return state;
  return 'shutdown';
}

/** The write at the head of the queue, as sent, once it has started: its commit under way, or a name of it written. */
function startedWrite(context: SessionMachineContext): WriteRequest | undefined {
  const head = context.queue.first;
  return head !== undefined && hasStarted(context, head) ? head.sent : undefined;
}

/**
 * A session process on this node, as its handles see it. Once the process has exited only how it ended is kept:
 * a Session handle held on to after that (by a module of a session that hibernated, say, or by user code) must
 * not keep the exited process, and with it every variable of its last state, in memory.
 */
export class LocalSessionProcess implements SessionProcess {
  #process: ProcessRef<SessionLogic> | undefined;
  readonly #label: string;
  #ending: SessionEnding | undefined;
  /** The write the process was carrying out when it exited, as its caller sent it. */
  #cutOff: WriteRequest | undefined;

  constructor(
    process: ProcessRef<SessionLogic>,
    private readonly processes: ProcessRuntime,
    readonly incarnation?: string,
  ) {
    this.#process = process;
    this.#label = process.name ?? process.id;
    void process.exited.then(() => {
      this.#ending = endingOf(process);
      this.#cutOff = startedWrite(process.getSnapshot().context);
      this.#process = undefined;
    });
  }

  get alive(): boolean {
    return this.#process?.alive ?? false;
  }

  context(): SessionMachineContext {
    return this.#current().getSnapshot().context;
  }

  ending(): SessionEnding | undefined {
    return this.#process ? endingOf(this.#process) : this.#ending;
  }

  cutOff(request: WriteRequest): boolean {
    return this.#cutOff === request;
  }

  withdraw(request: WriteRequest): boolean {
    const process = this.#process;
    const queued = (): boolean => process!.getSnapshot().context.queue.has(request);
    // Answered already (after its caller stopped waiting): it was carried out, or refused.
    if (!process?.alive || !queued()) return false;
    // Handled at once (a cast is delivered synchronously to an actor that is not busy, as this one is not now); the
    // machine keeps a write that has started.
    this.processes.cast(process, Object.freeze({ type: 'write.withdraw', request }));
    return !queued();
  }

  call(event: EventObject, timeoutMs: number): Promise<unknown> {
    if (!this.#process) return Promise.reject(new NoProcError(this.#label));
    return this.processes.call(this.#process, event, { timeout: timeoutMs });
  }

  #current(): ProcessRef<SessionLogic> {
    if (!this.#process) throw new NoProcError(this.#label);
    return this.#process;
  }
}
