/**
 * Who hears of the modules a node starts: a NATS node publishes each module's events, and other observers attach
 * their own listeners. Told once per module, not per process: a module that hibernates and wakes keeps its handle,
 * and the listeners attached to it follow it from process to process.
 * @module
 */
import type { ModuleHandle } from '../modules/module-handle.js';
import type { SessionContext } from '../session/session-context.js';
import type { ModuleEntry } from './module-entry.js';

/**
 * Told about each module that starts on this node, with the session it belongs to (of one life: a module ends with
 * it); may return what to do when it stops. Listeners it attaches to the handle follow the module from process to
 * process (it hibernates when idle, see `ModuleDirectory`).
 */
export type ModuleObserver = (handle: ModuleHandle, session: SessionContext) => (() => void) | void;

/** The observers of a node's modules. */
export class ModuleObservers {
  readonly #observers = new Set<ModuleObserver>();

  /** Adds `observer` for every module started from now on; returns the function that removes it. */
  add(observer: ModuleObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Tells every observer that `entry` started in `session`; what each returns runs when the module ends. */
  started(entry: ModuleEntry, session: SessionContext): void {
    for (const observer of this.#observers) {
      const cleanup = observer(entry.handle, session);
      if (cleanup) entry.atEnd(cleanup);
    }
  }
}
