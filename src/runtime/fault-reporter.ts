/**
 * Where a process runtime's faults go: a process's crash, and an error thrown by the user's own code that runs
 * inside XState (a monitor listener, the inspector, `onError` itself), which must never escape into XState or
 * Node's uncaught-exception path. Each is told to `onError` with the process it concerned, when one is known.
 * @module
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Process, ProcessRef } from './process.js';
import type { FaultSource, ProcessRuntimeOptions } from './process-runtime-options.js';
import { callUserCallback } from './user-callback.js';

/** Guards and reports the faults of one process runtime's processes. */
export class FaultReporter {
  /**
   * Which process an XState system belongs to, so inspector errors can be attributed: the process, or the name of one
   * that has no process left (a module shown stopped after it exited asleep).
   */
  readonly #bySystem = new WeakMap<object, Process | string>();
  /**
   * Inspector errors raised before their system was attributed: `createActor` itself sends the first inspection
   * event, before the process it makes exists. Held until {@link attribute} names the process.
   */
  readonly #early = new WeakMap<object, unknown[]>();
  /**
   * The processes whose inspection the inspector has failed already: each is reported once, not at every event. A
   * process known by its name alone is kept by its system.
   */
  readonly #inspectorFailed = new WeakSet<object>();
  readonly #onError: NonNullable<ProcessRuntimeOptions['onError']>;
  /** The runtime's inspector, wrapped so that one that throws is reported; given to every `createActor`. */
  readonly inspect: Observer<InspectionEvent> | undefined;

  constructor(options: ProcessRuntimeOptions) {
    this.#onError =
      options.onError ??
      ((error, process, source) =>
        // A listener's error about a process that may well have exited cleanly is no crash of that process.
        console.error(
          `[tether] ${source === undefined ? `process ${process} crashed` : `${source} of process ${process} threw`}:`,
          error,
        ));
    const { inspect } = options;
    if (inspect) {
      const observer = typeof inspect === 'function' ? { next: inspect } : inspect;
      // XState calls inspectors without a guard, inside the actor's own processing; a throwing tool must not
      // crash the process it watches.
      this.inspect = {
        next: (event) =>
          callUserCallback(
            () => observer.next?.(event),
            (error) => {
              // Inspection types actorRef narrowly; at runtime it is the actor, which knows its system.
              const { system } = event.actorRef as { system?: object };
              const process = system ? this.#bySystem.get(system) : undefined;
              if (process !== undefined || !system) return this.#reportInspector(error, process, system);
              const early = this.#early.get(system);
              if (early) early.push(error);
              else this.#early.set(system, [error]);
            },
          ),
      };
    }
  }

  /**
   * Attributes the errors of the inspector on `system` to `process` (or to the name of a process that has no process
   * left), reporting those it raised meanwhile.
   */
  attribute(system: object, process: Process | string): void {
    this.#bySystem.set(system, process);
    const early = this.#early.get(system);
    this.#early.delete(system);
    for (const error of early ?? []) this.#reportInspector(error, process, system);
  }

  /**
   * Reports the inspector's first error in inspecting `process` on `system` (later ones are its own bug again, or the
   * same).
   */
  #reportInspector(error: unknown, process: Process | string | undefined, system: object | undefined): void {
    if (process === undefined) return this.report(error, undefined);
    const failed = typeof process === 'string' ? system : process;
    if (failed) {
      if (this.#inspectorFailed.has(failed)) return;
      this.#inspectorFailed.add(failed);
    }
    this.report(error, process, 'inspector');
  }

  /**
   * Runs `fn`, reporting what it throws as a fault of `process` (a target as given, when it was no process), or of
   * `source` watching it.
   */
  guard(process: ProcessRef | string, fn: () => unknown, source?: FaultSource): void {
    callUserCallback(fn, (error) => this.report(error, process, source));
  }

  /**
   * Tells `onError` about `error`, which `source` threw in watching `process` (a crash or a fault of the process's
   * own when none is given); an inspector's error of no known process is only logged.
   */
  report(error: unknown, process: ProcessRef | string | undefined, source?: FaultSource): void {
    if (process === undefined) return console.error('[tether] an inspector threw:', error);
    // The reporter itself failing: logging is all that is left that cannot throw into XState.
    callUserCallback(
      // A crash is told with the two arguments `onError` was always called with: a handler counting its arguments (or
      // a test's spy matching the call) sees no third one it never asked for.
      () => (source === undefined ? this.#onError(error, process) : this.#onError(error, process, source)),
      (reportError) => console.error('[tether] onError threw while reporting', error, reportError),
    );
  }
}
