/**
 * What an inspector last saw of the sessions hibernating on a node, to show each one stopped when it ends asleep. A
 * session's process that hibernates ends in its final state `hibernated`, and a session deleted or expired before it
 * woke here was shown nothing more: its last word stayed `session.hibernate → hibernated` for good, so a watcher could
 * not tell a deleted session from a sleeping one. Modules and spawned processes that end asleep are shown one more
 * actor of their name, stopped (module-entry.ts, ProcessRuntime.inspectStopped); sessions now are too.
 *
 * Kept only while the node is inspected (an inspector is for watching, not for a service's hot path): otherwise a node
 * keeps nothing of the sessions hibernating on it, which is what their hibernation saves.
 * @module
 */
import type { AnyActorLogic, Snapshot } from 'xstate';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';

/** A hibernated session's last snapshot, and the life of the session (its record's incarnation) it served. */
interface Asleep {
  readonly snapshot: Snapshot<unknown>;
  readonly incarnation: string | undefined;
}

/** The last snapshots of a node's hibernating sessions, while its runtime is inspected. */
export class SessionsAsleep {
  readonly #asleep = new Map<string, Asleep>();

  /**
   * @param processes the runtime that runs, and inspects, the node's session processes
   * @param logic the session processes' logic, which the actor shown stopped is made of
   * @param nameOf the process name of a session, by its id
   */
  constructor(
    private readonly processes: ProcessRuntime,
    private readonly logic: AnyActorLogic,
    private readonly nameOf: (sessionId: string) => string,
  ) {}

  /** Session `id`'s process, serving its life `incarnation`, hibernated: its last snapshot is kept, while inspecting. */
  fellAsleep(id: string, process: ProcessRef, incarnation: string | undefined): void {
    if (!this.processes.inspecting) return;
    this.#asleep.set(id, { snapshot: process.actor.getPersistedSnapshot(), incarnation });
  }

  /** Session `id` has a process here again, which an inspector is shown from now on. */
  woke(id: string): void {
    this.#asleep.delete(id);
  }

  /**
   * Session `id` (its life `incarnation`, when given) ended: if it was asleep here, the inspector is shown its actor
   * stopped. An end of another life of the id is not this one's.
   */
  ended(id: string, incarnation: string | undefined): void {
    const asleep = this.#asleep.get(id);
    if (!asleep) return;
    if (incarnation !== undefined && asleep.incarnation !== undefined && asleep.incarnation !== incarnation) return;
    this.#asleep.delete(id);
    this.processes.inspectStopped(this.logic, this.nameOf(id), asleep.snapshot);
  }

  /** The node stops: every session asleep here is shown stopped, as its modules asleep are. */
  endAll(): void {
    for (const id of [...this.#asleep.keys()]) this.ended(id, undefined);
  }
}
