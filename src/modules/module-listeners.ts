/**
 * The listeners of a module handle's `on` and `onState`, and the one subscription that feeds them from the module's
 * current process. Kept by the handle, not on the actor, so that they follow the module to a new process.
 * @module
 */
import type { ModuleDescription } from '../../machines/module.machine.js';
import type { ProcessRef } from '../runtime/process.js';
import { callUserCallback } from '../runtime/user-callback.js';
import { deepFreeze } from '../variables/json-value.js';
import type { ModuleLogic } from './module-logic.js';
import type { ModuleEventListener, ModuleEventType } from './module-event-type.js';

/** Hears the module's state and the execution it is syncing or executing (`undefined` while idle). */
type StateListener = (state: ModuleDescription['state'], executionId: string | undefined) => void;

/** The state and execution of a module process's snapshot. */
function stateOf(snapshot: {
  readonly value: unknown;
  readonly context: { readonly current: { readonly executionId: string } | null };
}): { state: ModuleDescription['state']; executionId: string | undefined } {
  return { state: snapshot.value as ModuleDescription['state'], executionId: snapshot.context.current?.executionId };
}

/** One listener of `on`. */
interface EventListener {
  readonly type: string;
  readonly listener: (event: never) => void;
}

/**
 * The listeners of one module's handle, with what they last heard, subscribed to the actor of the process it
 * follows while anyone listens. A listener that throws or rejects is told to `report`, never to XState.
 */
export class ModuleListeners {
  /**
   * The listeners of `on` and `onState`. Arrays replaced on every change (a listener may unsubscribe while events are
   * delivered): a handle has a few, and a hibernating module keeps nothing else.
   */
  #listeners: readonly EventListener[] = [];
  #stateListeners: readonly StateListener[] = [];
  /** The state the listeners of `onState` last heard of (a woken process starts `idle`, as it went to sleep). */
  #state: ModuleDescription['state'] = 'idle';
  /** The execution the listeners of `onState` last heard of with {@link #state}. */
  #execution: string | undefined;
  /** Ends the subscriptions to the followed process's actor, when there are any. */
  #detach: (() => void) | undefined;
  readonly #sessionId: string;
  readonly #moduleId: string;
  readonly #report: (error: unknown, where: string) => void;

  /** Listeners of module `moduleId` of session `sessionId`, whose events name both. */
  constructor(sessionId: string, moduleId: string, report: (error: unknown, where: string) => void) {
    this.#sessionId = sessionId;
    this.#moduleId = moduleId;
    this.#report = report;
  }

  /** Whether anyone listens for `module.delta`. */
  get wantsDeltas(): boolean {
    return this.#listeners.some((one) => one.type === 'module.delta');
  }

  /**
   * Adds `listener` of events of `type` (checked by the caller) and subscribes to `process` if that was not done yet;
   * returns the unsubscribe function.
   */
  on<T extends ModuleEventType>(
    type: T,
    listener: ModuleEventListener<T>,
    process: ProcessRef<ModuleLogic> | undefined,
  ): () => void {
    const added: EventListener = { type, listener };
    this.#listeners = [...this.#listeners, added];
    this.#listen(process);
    return () => {
      this.#listeners = this.#listeners.filter((one) => one !== added);
    };
  }

  /**
   * Adds `listener` of the state of the module running in `process`, subscribes to it if that was not done yet, and
   * calls it at once with the state last heard; returns the unsubscribe function.
   */
  onState(listener: StateListener, process: ProcessRef<ModuleLogic> | undefined): () => void {
    // Read only when nobody listens yet: a subscription keeps it itself, and XState updates the snapshot before it
    // tells observers, so a read from inside a listener would take a change the others have not heard yet.
    if (!this.#detach && process?.alive) this.#take(process.getSnapshot());
    // Wrapped: the same function given twice is two listeners, as it was with one subscription each.
    const added: StateListener = (state, executionId) => listener(state, executionId);
    this.#stateListeners = [...this.#stateListeners, added];
    this.#listen(process);
    this.#guard(() => added(this.#state, this.#execution));
    return () => {
      this.#stateListeners = this.#stateListeners.filter((one) => one !== added);
    };
  }

  /** The module runs in `process` from now on: the listeners hear its state, and its events once anyone listens. */
  follow(process: ProcessRef<ModuleLogic>): void {
    this.unfollow();
    this.#take(process.getSnapshot());
    this.#listen(process);
  }

  /** Ends the subscriptions to the followed process's actor, keeping the listeners. */
  unfollow(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  /** Takes the snapshot's state and execution as what listeners last heard; whether either changed. */
  #take(snapshot: Parameters<typeof stateOf>[0]): boolean {
    const { state, executionId } = stateOf(snapshot);
    if (state === this.#state && executionId === this.#execution) return false;
    this.#state = state;
    this.#execution = executionId;
    return true;
  }

  /** Subscribes to the process's actor, once, when someone listens: one subscription for all listeners. */
  #listen(process: ProcessRef<ModuleLogic> | undefined): void {
    if (this.#detach || !process?.alive || (this.#listeners.length === 0 && this.#stateListeners.length === 0)) return;
    const { actor } = process;
    const events = actor.on('*', (event) => this.deliver(event));
    const states = actor.subscribe({
      next: (snapshot) => {
        if (!this.#take(snapshot)) return;
        const state = this.#state;
        const executionId = this.#execution;
        // Over the array of this moment, skipping any a listener before it removed: removed means not called again.
        const listeners = this.#stateListeners;
        for (const listener of listeners)
          if (listeners === this.#stateListeners || this.#stateListeners.includes(listener))
            this.#guard(() => listener(state, executionId));
      },
      // XState rethrows a crash (in a setTimeout) when any observer lacks an error handler; the runtime reports it.
      error: () => {},
    });
    this.#detach = () => {
      events.unsubscribe();
      states.unsubscribe();
    };
  }

  /**
   * Tells `event` to the listeners of its type, naming the session and the module: a `module.result` names its
   * module only inside its result, and no process event names its session, where the same event from NATS does.
   */
  deliver(event: { readonly type: string }): void {
    const listeners = this.#listeners;
    let heard: object | undefined;
    for (const added of listeners) {
      // One removed by a listener before it (the array was replaced) is not called again.
      if (added.type !== event.type || (listeners !== this.#listeners && !this.#listeners.includes(added))) continue;
      // Made once a listener wants it: a delta nobody listens for costs no copy. Frozen, with a sync's outcome: every
      // listener gets this one object, and none may change what the next one hears.
      heard ??= frozenEvent({ ...event, sessionId: this.#sessionId, moduleId: this.#moduleId });
      const told = heard;
      this.#guard(() => (added.listener as (event: unknown) => void)(told));
    }
  }

  /** Calls a listener of the user's: one that throws or rejects is reported, never reaching XState (which rethrows). */
  #guard(call: () => unknown): void {
    callUserCallback(call, (error) => this.#report(error, `listener of module ${this.#moduleId}`));
  }
}

/** `event` frozen, and a sync's `outcome` throughout: its `changes` and each `[old, new]` pair in them. */
function frozenEvent<T extends object>(event: T): T {
  deepFreeze((event as { readonly outcome?: unknown }).outcome);
  return Object.freeze(event);
}
