/**
 * `DynamicSupervisor`: OTP's supervisor for children started on demand, one_for_one, with a ceiling.
 * @module
 */
import { ChildStartError, MaxChildrenError, NoProcError } from '../errors.js';
import { shouldRestart, type ChildStart, type RestartType } from './child-spec.js';
import type { ExitReason } from './exit-reason.js';
import type { Demonitor } from './monitors.js';
import type { ProcessHost } from './process-host.js';
import { isRef, labelOf, noProcOf } from './process-arguments.js';
import type { ProcessRef } from './process.js';
import { SupervisorBase, type SupervisorBaseOptions } from './supervisor-base.js';
import { assertDynamicChildSpec, assertDynamicSupervisorOptions } from './supervisor-options.js';

/** Options for {@link DynamicSupervisor.start}. */
export interface DynamicSupervisorOptions extends SupervisorBaseOptions {
  /**
   * Children beyond this are refused with {@link MaxChildrenError}: a whole number ≥ 0 (0 refuses every child, as
   * OTP's `max_children: 0` does), or `Infinity`. @default Infinity
   */
  readonly maxChildren?: number;
}

/** How a dynamic child is started and restarted; the process ref identifies it, so it needs no id. */
export interface DynamicChildSpec {
  readonly start: () => ChildStart;
  /** @default 'permanent' */
  readonly restart?: RestartType;
}

interface DynamicChild {
  readonly spec: DynamicChildSpec;
  ref: ProcessRef | undefined;
  demonitor: Demonitor | undefined;
}

/**
 * Supervises children added at run time, restarting each on its own (one_for_one) within the restart
 * intensity. A child counts against `maxChildren` from `startChild` until it exits for good or is terminated.
 * @example
 * const sessions = DynamicSupervisor.start(runtime, { name: 'sessions', maxChildren: 10_000 });
 * const ref = sessions.startChild({ start: () => ({ logic: sessionMachine, name: `session:${id}`, input: { id } }) });
 * await sessions.terminateChild(ref);
 */
export class DynamicSupervisor extends SupervisorBase {
  /** The ceiling `startChild` enforces; `Infinity` when none was given. */
  readonly maxChildren: number;
  /** A Set keeps start order, which termination walks backwards. */
  readonly #children = new Set<DynamicChild>();
  /**
   * Children whose `start()` is running: counted against `maxChildren` too, as one is added only once it started,
   * and a `startChild` made from inside a `start()` would otherwise pass the same check.
   */
  #starting = 0;

  private constructor(runtime: ProcessHost, options: DynamicSupervisorOptions) {
    super(runtime, options);
    this.maxChildren = options.maxChildren ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Starts a dynamic supervisor with no children.
   * @throws {ValidationError} when an option is unknown or out of range; nothing is started
   * @throws {AlreadyExistsError} when the name is taken
   */
  static start(runtime: ProcessHost, options: DynamicSupervisorOptions = {}): DynamicSupervisor {
    assertDynamicSupervisorOptions(options);
    return new DynamicSupervisor(runtime, options);
  }

  /**
   * Starts and supervises one more child.
   * @throws {ValidationError} when `spec` has an unknown key or restart type, or no `start` function
   * @throws {NoProcError} when the supervisor has exited or is stopping (its `start` is not called)
   * @throws {MaxChildrenError} when it already has `maxChildren` children, those still starting included
   * @throws {ChildStartError} when the child fails to start (nothing is kept)
   */
  startChild(spec: DynamicChildSpec): ProcessRef {
    assertDynamicChildSpec(spec);
    // Stopping, it waits for its children to exit: a child started now would only be stopped again.
    if (!this.alive || this.terminating) throw new NoProcError(this.label);
    if (this.#children.size + this.#starting >= this.maxChildren)
      throw new MaxChildrenError(this.label, this.maxChildren);
    // Copied as checked: a caller that reuses one spec object for its next child must not change this one's restarts.
    const child: DynamicChild = { spec: Object.freeze({ ...spec }), ref: undefined, demonitor: undefined };
    this.#starting++;
    try {
      this.#start(child);
    } catch (error) {
      throw new ChildStartError(this.label, 'dynamic', { cause: error });
    } finally {
      this.#starting--;
    }
    this.#children.add(child);
    return child.ref as ProcessRef;
  }

  /**
   * Stops a child for good (no restart) and settles once it has exited. The child is given by its handle or by the
   * name it is registered under, as Elixir takes its pid.
   * @throws {NoProcError} (rejects) when `child` is neither a running child of this supervisor nor the name of one
   */
  terminateChild(child: ProcessRef | string): Promise<void> {
    // Only a ref or a name can be a child: `undefined` (a `whereis` that found nothing) would match a child being
    // restarted. A name is looked up among the children alone: one another process holds names no child of this.
    const found =
      typeof child === 'string'
        ? [...this.#children].find((candidate) => candidate.ref?.name === child)
        : isRef(child)
          ? [...this.#children].find((candidate) => candidate.ref === child)
          : undefined;
    if (!found) {
      const error = noProcOf(child);
      // "No process is alive" would be false of a live process of another's (OTP answers `not_found`), and may be of
      // a name (the supervisor does not look who else holds it).
      if (typeof child === 'string') error.message = `no child of this supervisor is registered as '${child}'`;
      else if (isRef(child) && child.alive)
        error.message = `process '${labelOf(child)}' is not a child of this supervisor`;
      return Promise.reject(error);
    }
    this.#children.delete(found);
    return Promise.resolve(this.#terminate(found)).then(() => undefined);
  }

  /** The running children, in start order (OTP's `which_children`). */
  children(): ProcessRef[] {
    return [...this.#children].flatMap((child) => (child.ref ? [child.ref] : []));
  }

  /** How many children count against `maxChildren`, including any being restarted. */
  get count(): number {
    return this.#children.size;
  }

  protected terminateChildren(): Promise<void> | undefined {
    const newestFirst = [...this.#children].reverse();
    this.#children.clear();
    return this.terminateInTurn(newestFirst, (child) => this.#terminate(child));
  }

  #start(child: DynamicChild): void {
    const ref = this.spawnSupervised(child.spec.start);
    child.ref = ref;
    child.demonitor = this.watch(ref, (reason) => this.#onExit(child, ref, reason));
  }

  /** Stops one child without treating its exit as a failure (the monitor goes first); returns its exit still to come. */
  #terminate(child: DynamicChild): Promise<unknown> | undefined {
    const { ref } = child;
    child.demonitor?.();
    child.ref = undefined;
    child.demonitor = undefined;
    return ref ? this.shutdown(ref) : undefined;
  }

  async #onExit(child: DynamicChild, ref: ProcessRef, reason: ExitReason): Promise<void> {
    if (child.ref !== ref) return;
    child.ref = undefined;
    child.demonitor = undefined;
    if (!shouldRestart(child.spec.restart ?? 'permanent', reason)) {
      this.#children.delete(child);
      return;
    }
    if (!this.allowRestart('dynamic', reason)) return;
    if (!(await this.restartWithRetry('dynamic', () => this.#start(child)))) this.#children.delete(child);
  }
}
