/**
 * The actors a process runtime's processes run, as its inspector sees them: made with the inspector, their crash
 * shown once (XState shows none for most), the stop of one put to sleep not shown, and one let go asleep shown stopped
 * once it ends for good.
 * @module
 */
import type { AnyActor, AnyActorLogic, InspectionEvent, Observer, Snapshot } from 'xstate';
import type { FaultReporter } from './fault-reporter.js';
import { ProcessActor } from './process-actor.js';
import type { Process } from './process.js';

/** Makes, starts and stops the actors of one runtime's processes, and tells its inspector what XState does not. */
export class ProcessActors {
  readonly #inspect: Observer<InspectionEvent> | undefined;
  /** The actor being put to sleep now (see {@link stopAsleep}), whose stop the inspector is not shown. */
  #sleeping: AnyActor | undefined;
  /** The actor whose `start()` is running now: its crash is shown to the inspector after XState's start snapshot. */
  #starting: AnyActor | undefined;
  /**
   * The actors whose crash was shown (see {@link crashed}). A logic whose transition ends in an error snapshot (a
   * promise that rejects, a machine with no handler for a child's error) is inspected by XState too, after the exit
   * its crash caused: shown again, the process would look as if it had crashed twice.
   */
  readonly #crashShown = new WeakSet<AnyActor>();

  /** @param faults where the runtime's faults go: the inspector it wraps, and the attribution of its errors */
  constructor(private readonly faults: FaultReporter) {
    const inspect = faults.inspect;
    // XState inspects the stop of an actor put to sleep as any stop: the process it ran is alive all the same. And a
    // crash it inspects itself was shown already (see `crashed`).
    this.#inspect = inspect && {
      next: (event) => {
        const crashShownAgain =
          event.type === '@xstate.snapshot' &&
          (event.snapshot as { status?: unknown }).status === 'error' &&
          this.#crashShown.has(event.actorRef as AnyActor);
        if (event.actorRef !== this.#sleeping && !crashShownAgain) inspect.next?.(event);
      },
    };
  }

  /** Whether an inspector watches the runtime's processes (the `inspect` option). */
  get inspecting(): boolean {
    return this.#inspect !== undefined;
  }

  /**
   * The actor of a process, whose XState `id` is the process's name, or its pid when it has none: inspection tools
   * (Stately's among them) show an actor by its `id`, and XState sets `systemId` only after announcing the actor. A
   * {@link ProcessActor}: a user's observer must not make the process's crash an uncaught exception.
   */
  create(logic: AnyActorLogic, id: string, systemId: string | undefined, start: object): AnyActor {
    return new ProcessActor(logic, {
      id,
      ...start,
      ...(systemId !== undefined ? { systemId } : {}),
      ...(this.#inspect ? { inspect: this.#inspect } : {}),
    });
  }

  /** Starts `actor`, a process's current one, already observed by the runtime. */
  start(actor: AnyActor): void {
    // Saved and restored: a process may spawn another as it starts.
    const outer = this.#starting;
    this.#starting = actor;
    try {
      actor.start();
    } finally {
      this.#starting = outer;
    }
  }

  /**
   * Stops `actor`, a process's idle one, as the process goes to sleep, without the inspector told (the stop runs at
   * once: the actor is idle), as a hibernating module's actor is not shown stopped either: the process lives on, and
   * its next actor starts when it wakes.
   */
  stopAsleep(actor: AnyActor): void {
    this.#sleeping = actor;
    try {
      actor.stop();
    } finally {
      this.#sleeping = undefined;
    }
  }

  /**
   * Shows the inspector the snapshot a crash left (`status: 'error'`, the error in `error`): XState inspects no
   * snapshot when a transition throws, so the process's last one, `active`, would have stood for it for ever. At once,
   * ahead of anything its exit lets happen (a process started under its name, whose first snapshot would otherwise
   * come first); a microtask later for a crash while starting, which XState's snapshot of the start (still `active`)
   * follows, sent after the error observers are told. Once: XState's own snapshot of the crash, when it inspects one
   * (later, with the event that caused it), is not shown.
   */
  crashed(actor: AnyActor): void {
    const inspect = this.faults.inspect;
    if (!inspect) return;
    this.#crashShown.add(actor);
    const show = (): void =>
      inspect.next?.({
        type: '@xstate.snapshot',
        actorRef: actor,
        rootId: actor.sessionId,
        snapshot: actor.getSnapshot(),
        event: { type: 'xstate.error' },
      } as InspectionEvent);
    if (this.#starting === actor) queueMicrotask(show);
    else show();
  }

  /**
   * `ProcessRuntime.inspectStopped` for `process`, or a process that has none left by its name. The actor made for the
   * inspector is attributed to it before it is shown: what the inspector throws there is reported as its error on any
   * other actor of the process is, where it was kept unreported for good with the errors of actors not attributed yet.
   */
  showStopped(logic: AnyActorLogic, snapshot: Snapshot<unknown>, process: Process | string): void {
    const inspect = this.#inspect;
    if (!inspect) return;
    const name = typeof process === 'string' ? process : (process.name ?? process.id);
    const actor = this.create(logic, name, name, { snapshot });
    this.faults.attribute(actor.system, process);
    inspect.next?.({
      type: '@xstate.snapshot',
      actorRef: actor,
      rootId: actor.sessionId,
      snapshot: { ...actor.getSnapshot(), status: 'stopped' },
      event: { type: 'xstate.stop' },
    } as InspectionEvent);
  }
}
