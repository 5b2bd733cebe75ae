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
   * The ids of the processes in spawn order, for `newest()`: a Map's last entry can only be found by walking all of
   * them, which made `stopAll` quadratic (6-10 s for 80,000). Ids, not processes: an exited process (its actor and
   * context) must not be held here. Those of exited ones stay until `newest()` passes them or, once over 1,024 and
   * over half, a compaction drops them: amortized constant time, and no more of them than 1,024 or the live ones.
   */
  #order: string[] = [];
  /** How many of {@link #order} are ids of exited processes. */
  #exitedInOrder = 0;

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
    this.#order.push(process.id);
  }

  /** Removes a process that exited, freeing its name only if the name still points at this very process. */
  remove(process: Process): void {
    if (process.name !== undefined && this.#byName.get(process.name) === process) this.#byName.delete(process.name);
    if (this.#byId.get(process.id) !== process) return;
    this.#byId.delete(process.id);
    // Past 1,024 so that a handful of processes spawned and stopped in turn do not compact at every exit.
    if (++this.#exitedInOrder > 1024 && this.#exitedInOrder * 2 > this.#order.length) {
      this.#order = this.#order.filter((id) => this.#byId.has(id));
      this.#exitedInOrder = 0;
    }
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

  /** The most recently spawned live process. */
  newest(): Process | undefined {
    for (let last = this.#order.at(-1); last !== undefined; last = this.#order.at(-1)) {
      const process = this.#byId.get(last);
      if (process) return process;
      this.#order.pop();
      this.#exitedInOrder--;
    }
    return undefined;
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }
}
