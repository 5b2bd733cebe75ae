/**
 * The registry: a runtime's live processes, by id and by registered name (Elixir's registered names: one live
 * process per name), and the lookup of a target to the live process it names.
 * @module
 */
import { AlreadyExistsError } from '../errors.js';
import { assertProcessName, isRef } from './process-arguments.js';
import type { Process } from './process.js';

/**
 * The live processes. The runtime removes a process in the same tick it exits, so a lookup never returns a dead
 * process and a supervisor can re-register a restarted child under its old name.
 * @internal
 */
export class Registry {
  readonly #byName = new Map<string, Process>();
  /** A Map keeps spawn order, which `processes()` lists. */
  readonly #byId = new Map<string, Process>();

  /**
   * Throws unless a new process can be registered under `name`; checked before an actor is created.
   * @throws {ValidationError} when `name` is not a non-empty string
   * @throws {AlreadyExistsError} when a live process holds it
   */
  assertClaimable(name: string): void {
    assertProcessName(name);
    if (this.#byName.has(name)) throw new AlreadyExistsError('process', name);
  }

  /** Adds a new live process, claiming its name; throws {@link AlreadyExistsError} if a live process holds it. */
  add(process: Process): void {
    if (process.name !== undefined) {
      this.assertClaimable(process.name);
      this.#byName.set(process.name, process);
    }
    this.#byId.set(process.id, process);
  }

  /** Removes a process that exited, freeing its name only if the name still points at this very process. */
  remove(process: Process): void {
    if (process.name !== undefined && this.#byName.get(process.name) === process) this.#byName.delete(process.name);
    if (this.#byId.get(process.id) === process) this.#byId.delete(process.id);
  }

  /** The live process registered under `name`. */
  get(name: string): Process | undefined {
    return this.#byName.get(name);
  }

  /**
   * The live process `target` names: a registered name, or a handle of a process that is still alive. `undefined`
   * for one that is not alive, and for a value that is no target at all.
   */
  resolve(target: unknown): Process | undefined {
    if (typeof target === 'string') return this.#byName.get(target);
    if (!isRef(target)) return undefined;
    const process = this.#byId.get(target.id);
    return process === target ? process : undefined;
  }

  /** Every live process, in spawn order. */
  all(): Process[] {
    return [...this.#byId.values()];
  }
}
