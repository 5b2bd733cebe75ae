/**
 * Fans accepted variable changes out to `watchVariables` listeners. Listeners live here, outside the session
 * process, so the process context stays plain data and a restarted process keeps its watchers.
 * @module
 */
import { compileGlob } from '../variables/glob.js';
import type { Unwatch, VariableChange, VariableListener } from './session-context.js';
import { callUserCallback } from '../runtime/user-callback.js';

/** Told when a listener throws; a listener can never break delivery to others or the session. */
export type ListenerErrorReporter = (error: unknown, sessionId: string) => void;

/** One listener with its own queue: changes are delivered in order, each after the previous one returned. */
class Watcher {
  readonly #queue: VariableChange[] = [];
  #draining = false;
  active = true;

  constructor(
    readonly sessionId: string,
    readonly matches: (name: string) => boolean,
    readonly listener: VariableListener,
    readonly report: ListenerErrorReporter,
  ) {}

  push(change: VariableChange): void {
    if (!this.active) return;
    this.#queue.push(change);
    if (this.#draining) return;
    this.#draining = true;
    // Delivered on a microtask, never inside the session's transition: a listener that writes a variable or
    // throws must not re-enter or crash the process that announced the change.
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    let delivered = 0;
    try {
      while (this.active && delivered < this.#queue.length) {
        const change = this.#queue[delivered++] as VariableChange;
        callUserCallback(
          () => this.listener(change),
          (error) => this.report(error, this.sessionId),
        );
      }
    } finally {
      // Removed in one go: a shift per change turned a burst of 100,000 changes quadratic.
      this.#queue.splice(0, delivered);
      // Whatever happened, the next change must be able to schedule a drain again.
      this.#draining = false;
    }
  }
}

/** Watchers of every session of a runtime, indexed by session. */
export class WatchHub {
  readonly #bySession = new Map<string, Set<Watcher>>();

  constructor(private readonly report: ListenerErrorReporter) {}

  /**
   * Registers a listener for the variables of `sessionId` whose names match the glob `pattern`; `initial`
   * changes are queued first, so they reach the listener before any later change; they are frozen as
   * {@link WatchHub.publish} freezes its changes.
   */
  add(
    sessionId: string,
    pattern: string,
    listener: VariableListener,
    initial: readonly VariableChange[] = [],
  ): Unwatch {
    const watcher = new Watcher(sessionId, compileGlob(pattern), listener, this.report);
    for (const change of initial) if (watcher.matches(change.name)) watcher.push(Object.freeze(change));
    let watchers = this.#bySession.get(sessionId);
    if (!watchers) this.#bySession.set(sessionId, (watchers = new Set()));
    watchers.add(watcher);
    return () => {
      watcher.active = false;
      watchers.delete(watcher);
      if (watchers.size === 0 && this.#bySession.get(sessionId) === watchers) this.#bySession.delete(sessionId);
    };
  }

  /**
   * Delivers one accepted change to the session's matching watchers, frozen (as its values already are): every
   * watcher is handed the same object, and one listener must not change what the next one hears.
   */
  publish(sessionId: string, change: VariableChange): void {
    const watchers = this.#bySession.get(sessionId);
    if (!watchers) return;
    Object.freeze(change);
    for (const watcher of watchers) if (watcher.matches(change.name)) watcher.push(change);
  }

  /** Whether the session has at least one watcher. */
  watches(sessionId: string): boolean {
    return this.#bySession.has(sessionId);
  }

  /** Drops every watcher of a session (it expired or was stopped for good). */
  clear(sessionId: string): void {
    const watchers = this.#bySession.get(sessionId);
    if (!watchers) return;
    for (const watcher of watchers) watcher.active = false;
    this.#bySession.delete(sessionId);
  }
}
