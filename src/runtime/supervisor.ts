/**
 * `Supervisor`: OTP's static supervisor over a fixed list of children.
 * @module
 */
import { ChildStartError, ValidationError } from '../errors.js';
import { shouldRestart, type ChildSpec, type RestartType } from './child-spec.js';
import type { ExitReason } from './exit-reason.js';
import type { Demonitor } from './monitors.js';
import type { ProcessHost } from './process-host.js';
import type { ProcessRef } from './process.js';
import { SupervisorBase, type SupervisorBaseOptions } from './supervisor-base.js';
import { assertSupervisorOptions } from './supervisor-options.js';

/**
 * Which children restart when one must: `one_for_one` only that child; `one_for_all` all of them;
 * `rest_for_one` that child and every child started after it. The others are stopped newest first, then all
 * are started again in order.
 */
export type SupervisorStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** Options for {@link Supervisor.start}. */
export interface SupervisorOptions extends SupervisorBaseOptions {
  /** Started in this order; stopped in reverse. */
  readonly children: readonly ChildSpec[];
  /** @default 'one_for_one' */
  readonly strategy?: SupervisorStrategy;
}

/** A child as `which` reports it. */
export interface ChildInfo {
  readonly id: string;
  readonly restart: RestartType;
  /** The current incarnation; `undefined` while it is being restarted or after it exited for good. */
  readonly ref: ProcessRef | undefined;
}

interface Child {
  readonly spec: ChildSpec;
  ref: ProcessRef | undefined;
  demonitor: Demonitor | undefined;
  /**
   * The incarnation the supervisor stopped last: one stopped for a sibling's restart may not have exited yet when the
   * supervisor itself goes, and its older siblings wait for it all the same.
   */
  stopped: ProcessRef | undefined;
}

/**
 * Starts children in order and keeps them running by its strategy, within the restart intensity; past it, it tells
 * `onError` a `MaxRestartIntensityError`, stops the remaining children and exits with `'shutdown'`, as OTP's does.
 * @example
 * const sup = Supervisor.start(runtime, {
 *   strategy: 'one_for_one',
 *   children: [{ id: 'cache', start: () => ({ logic: cacheMachine, name: 'cache' }) }],
 * });
 * await runtime.call('cache', { type: 'get', key: 'k' }); // still answers after a crash and restart
 */
export class Supervisor extends SupervisorBase {
  /** Which children restart together; fixed for the supervisor's life. */
  readonly strategy: SupervisorStrategy;
  #children: Child[];

  private constructor(runtime: ProcessHost, options: SupervisorOptions) {
    super(runtime, options);
    this.strategy = options.strategy ?? 'one_for_one';
    // Copied as checked: OTP's child specs are data, and a caller that changes or reuses its object afterwards must
    // change nothing (a restart read `start` and `restart` from it again).
    this.#children = options.children.map((spec) => ({
      spec: Object.freeze({ ...spec }),
      ref: undefined,
      demonitor: undefined,
      stopped: undefined,
    }));
  }

  /**
   * Starts the supervisor and its children, in order.
   * @throws {ValidationError} when an option or a child spec has an unknown key, an unknown strategy or restart
   * type, or a value out of range, or when two children share an id; nothing is started
   * @throws {AlreadyExistsError} when the supervisor's name is taken
   * @throws {ChildStartError} when a child fails to start; the children already started are stopped first
   */
  static start(runtime: ProcessHost, options: SupervisorOptions): Supervisor {
    assertSupervisorOptions(options);
    const ids = options.children.map((spec) => spec.id);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate !== undefined)
      throw new ValidationError(`two children share the id '${duplicate}'`, { details: { childId: duplicate } });
    const supervisor = new Supervisor(runtime, options);
    for (const child of supervisor.#children) {
      try {
        supervisor.#start(child);
      } catch (error) {
        void supervisor.stop({ shutdown: 'failed_to_start_child' });
        throw new ChildStartError(supervisor.label, child.spec.id, { cause: error });
      }
    }
    return supervisor;
  }

  /** Every child in start order (OTP's `which_children`); temporary children that exited are gone. */
  which(): ChildInfo[] {
    return this.#children.map(({ spec, ref }) => ({ id: spec.id, restart: spec.restart ?? 'permanent', ref }));
  }

  /** The current process of child `id`, if it is running. */
  child(id: string): ProcessRef | undefined {
    return this.#children.find((child) => child.spec.id === id)?.ref;
  }

  protected terminateChildren(): Promise<void> | undefined {
    return this.terminateInTurn([...this.#children].reverse(), (child) => this.#terminate(child));
  }

  #start(child: Child): void {
    const ref = this.spawnSupervised(child.spec.start);
    child.ref = ref;
    child.demonitor = this.watch(ref, (reason) => this.#onExit(child, ref, reason));
  }

  /**
   * Stops one child without treating its exit as a failure (the monitor goes first); returns its exit still to come,
   * or that of the incarnation stopped before (see {@link Child.stopped}).
   */
  #terminate(child: Child): Promise<unknown> | undefined {
    const { ref } = child;
    if (ref) {
      child.demonitor?.();
      child.ref = undefined;
      child.demonitor = undefined;
      child.stopped = ref;
      return this.shutdown(ref);
    }
    return child.stopped?.alive ? child.stopped.exited : undefined;
  }

  async #onExit(child: Child, ref: ProcessRef, reason: ExitReason): Promise<void> {
    // A stale notice: the supervisor itself stopped or replaced this incarnation.
    if (child.ref !== ref) return;
    child.ref = undefined;
    child.demonitor = undefined;
    const restart = child.spec.restart ?? 'permanent';
    if (!shouldRestart(restart, reason)) {
      if (restart === 'temporary') this.#forget(child);
      return;
    }
    if (!this.allowRestart(child.spec.id, reason)) return;
    const group = this.#groupOf(child);
    for (const other of [...group].reverse()) if (other !== child) await this.#terminate(other);
    // As in OTP, temporary children stopped for a sibling's sake are not restarted.
    for (const other of group)
      if (other !== child && (other.spec.restart ?? 'permanent') === 'temporary') this.#forget(other);
    for (const member of group) {
      if (!this.#children.includes(member)) continue;
      if (!(await this.restartWithRetry(member.spec.id, () => this.#start(member)))) return;
    }
  }

  /** The children that restart together with `child`, in start order. */
  #groupOf(child: Child): Child[] {
    if (this.strategy === 'one_for_one') return [child];
    if (this.strategy === 'one_for_all') return [...this.#children];
    return this.#children.slice(this.#children.indexOf(child));
  }

  #forget(child: Child): void {
    this.#children = this.#children.filter((other) => other !== child);
  }
}
