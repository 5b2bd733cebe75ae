/**
 * Idle hibernation of the processes a runtime spawned with `hibernateAfter`: their idle time, putting them to sleep
 * (their actor stopped, their snapshot kept) and waking them into a new actor from that snapshot.
 * @module
 */
import type { AnyActor, AnyActorLogic, AnyEventObject, Subscription } from 'xstate';
import type { FaultReporter } from './fault-reporter.js';
import { hasWorkOrWatchers, resumingFrom, type Sleeper } from './hibernation.js';
import { IdleClock } from './idle-clock.js';
import type { PendingCalls } from './pending-calls.js';
import { ProcessActor } from './process-actor.js';
import type { ProcessActors } from './process-actors.js';
import type { Process } from './process.js';

/** What a {@link Hibernator} works with: parts of its runtime, and the runtime's own run and cast. */
export interface HibernatorDeps {
  readonly faults: FaultReporter;
  /** The runtime's pending calls: a process awaiting a reply is not idle. */
  readonly pending: PendingCalls;
  readonly actors: ProcessActors;
  /** Observes a process's current actor and starts it, as the runtime runs every process. */
  readonly run: (process: Process) => void;
  /** Sends `event` to `process` as `ProcessRuntime.cast` does, waking it. */
  readonly cast: (process: Process, event: AnyEventObject) => void;
}

/** Puts one runtime's idle processes to sleep, and wakes them. */
export class Hibernator {
  /** The processes spawned with `hibernateAfter`, and their idle time. */
  readonly #sleepers = new Map<Process, Sleeper>();
  /** Processes that exited while hibernating, for the actor `ref.actor` still shows. */
  readonly #retired = new WeakMap<Process, Sleeper>();
  readonly #idle = new IdleClock<Process>((process) => this.#hibernate(process));

  constructor(private readonly deps: HibernatorDeps) {}

  /** `process`, running `logic`, goes to sleep once idle for `afterMs`; its idle time counts from now. */
  add(process: Process, logic: AnyActorLogic, systemId: string | undefined, afterMs: number): void {
    const resume = resumingFrom(logic);
    this.#sleepers.set(process, { resume, systemId, afterMs, subscription: undefined });
    this.#idle.touch(process, afterMs);
  }

  /** The runtime observes the current actor of `process` through `subscription`, which a hibernation ends first. */
  observed(process: Process, subscription: Subscription): void {
    const sleeper = this.#sleepers.get(process);
    if (sleeper) sleeper.subscription = subscription;
  }

  /** Shows the inspector the stop of `process`, hibernating, which it was not shown when the process went to sleep. */
  showStopped(process: Process): void {
    const sleeper = this.#sleepers.get(process);
    const { asleepWith } = process;
    if (sleeper && asleepWith !== undefined) this.deps.actors.showStopped(sleeper.resume, asleepWith, process);
  }

  /** A message is about to reach `process`: for one that may hibernate, that is activity. */
  touch(process: Process): void {
    const sleeper = this.#sleepers.get(process);
    if (sleeper) this.#idle.touch(process, sleeper.afterMs);
  }

  /**
   * Restores a hibernating process into a new actor, from the snapshot it went to sleep with. For a process that
   * exited while hibernating, only makes an actor to read, stopped (see {@link ProcessRef.actor}).
   */
  wake(process: Process): void {
    const last = process.asleepWith;
    const sleeper = this.#sleepers.get(process) ?? this.#retired.get(process);
    if (last === undefined || !sleeper) return;
    if (!process.alive) {
      const shown = new ProcessActor(sleeper.resume, { id: process.name ?? process.id, snapshot: last });
      shown.stop();
      return process.keepForReading(shown as never);
    }
    this.#idle.touch(process, sleeper.afterMs);
    process.wake(
      this.deps.actors.create(sleeper.resume, process.name ?? process.id, sleeper.systemId, {
        snapshot: last,
      }) as never,
    );
    this.deps.run(process);
  }

  /** `process` exited: it hibernates no more, and, if it exited asleep, can still show its last snapshot. */
  exited(process: Process): void {
    const sleeper = this.#sleepers.get(process);
    // Kept while it may still have to show an actor restored from its last snapshot (weakly: it goes with the ref).
    if (sleeper && process.asleepWith !== undefined) this.#retired.set(process, sleeper);
    this.#sleepers.delete(process);
    this.#idle.forget(process);
  }

  /** Puts an idle process to sleep, unless it is not idle after all (then the idle clock asks again later). */
  #hibernate(process: Process): void {
    this.deps.faults.guard(process, () => {
      const sleeper = this.#sleepers.get(process);
      if (!sleeper || !process.alive || process.hibernating) return;
      const { actor } = process;
      const snapshot = actor.getSnapshot() as { status: string; children?: Record<string, AnyActor> };
      if (snapshot.status !== 'active' || this.deps.pending.awaiting(process) || hasWorkOrWatchers(actor, snapshot)) {
        // Busy now: checked again one hibernateAfter from now, not at every sweep.
        this.#idle.touch(process, sleeper.afterMs);
        return;
      }
      // Unobserved first: the stop below is a hibernation, not an exit.
      sleeper.subscription?.unsubscribe();
      sleeper.subscription = undefined;
      // It has no child actor (see `hasWorkOrWatchers`): nothing in the snapshot holds the old actor or its system.
      process.hibernate(snapshot as never);
      this.#idle.forget(process);
      this.deps.actors.stopAsleep(actor);
      // Whoever still holds the old actor (an action's promise via `self`, a caller's `ref.actor`, another actor's
      // `sendTo`) reaches the process: `send` and XState's relay between actors both end in `_send`.
      (actor as unknown as { _send(event: AnyEventObject): void })._send = (event) => this.deps.cast(process, event);
    });
  }
}
