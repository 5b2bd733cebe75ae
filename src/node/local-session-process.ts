/**
 * A session process of this node as the Session handle sees it, and how its ending reads: the small adapter
 * between the process registry and the session layer.
 * @module
 */
import type { EventObject } from 'xstate';
import type { SessionMachineContext } from '../../machines/session.machine.js';
import { isCrash, type ExitReason } from '../runtime/exit-reason.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { SessionProcess } from '../session/session-host.js';
import type { SessionLogic } from '../session/session-logic.js';

/** The committed ending of a session process, as the handle reports it. */
export function endingOf(process: ProcessRef<SessionLogic>): ReturnType<SessionProcess['ending']> {
  const reason: ExitReason | undefined = process.exitReason;
  if (reason === undefined) return undefined;
  if (isCrash(reason)) return 'crashed';
  const state = process.getSnapshot().value;
  if (
    reason === 'normal' &&
    (state === 'expired' || state === 'hibernated' || state === 'stopped' || state === 'failed')
  )
    return state;
  return 'shutdown';
}

/** A session process on this node, as its handles see it. */
export class LocalSessionProcess implements SessionProcess {
  constructor(
    private readonly process: ProcessRef<SessionLogic>,
    private readonly processes: ProcessRuntime,
  ) {}

  get alive(): boolean {
    return this.process.alive;
  }

  context(): SessionMachineContext {
    return this.process.getSnapshot().context;
  }

  ending(): ReturnType<SessionProcess['ending']> {
    return endingOf(this.process);
  }

  call(event: EventObject, timeoutMs: number): Promise<unknown> {
    return this.processes.call(this.process, event, { timeout: timeoutMs });
  }
}
