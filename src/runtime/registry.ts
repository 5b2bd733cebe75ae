/**
 * The name registry (Elixir's `Registry` / registered names): one live process per name.
 * @module
 */
import { AlreadyExistsError } from '../errors.js';
import type { Process } from './process.js';

/**
 * Maps registered names to live processes. The runtime unregisters a process in the same tick it exits, so a
 * lookup never returns a dead process and a supervisor can re-register a restarted child under its old name.
 * @internal
 */
export class Registry {
  readonly #byName = new Map<string, Process>();

  /** Throws {@link AlreadyExistsError} if a live process holds `name`; checked before an actor is created. */
  assertFree(name: string): void {
    if (this.#byName.has(name)) throw new AlreadyExistsError('process', name);
  }

  /** Claims `name` for `process`; throws {@link AlreadyExistsError} if a live process holds it. */
  register(name: string, process: Process): void {
    this.assertFree(name);
    this.#byName.set(name, process);
  }

  /** Frees the process's name, but only if the name still points at this very process. */
  unregister(process: Process): void {
    if (process.name !== undefined && this.#byName.get(process.name) === process) this.#byName.delete(process.name);
  }

  /** The live process registered under `name`. */
  get(name: string): Process | undefined {
    return this.#byName.get(name);
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }
}
