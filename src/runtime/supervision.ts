/**
 * Which supervisor supervises each process of a runtime: what `stopAll` stops with its supervisor rather than on its
 * own, and what a supervisor's exit waits for (its children asked to stop, and what it holds its exit for).
 * @module
 */
import { ValidationError } from '../errors.js';
import type { Process, ProcessRef } from './process.js';
import type { Registry } from './registry.js';

/** The supervisors of one runtime's processes, their live children, and the holds on their exits. */
export class Supervision {
  /** The supervisor of each supervised process (see {@link supervised}). */
  readonly #supervisors = new WeakMap<Process, ProcessRef>();
  /** The supervised processes of each supervisor that have not exited yet: its exit waits for theirs. */
  readonly #liveChildren = new WeakMap<Process, Set<Process>>();
  /** What each supervisor's exit waits for besides its children asked to stop (see {@link holdExit}). */
  readonly #exitHolds = new WeakMap<Process, Promise<unknown>>();

  /** @param registry the runtime's live processes, which the handles given here are looked up in */
  constructor(private readonly registry: Registry) {}

  /**
   * See {@link ProcessHost.supervised}.
   * @throws {ValidationError} when `child` is `supervisor` itself or a supervisor above it (its stop would wait for its
   *   own exit, for ever), or when a live supervisor supervises it already, that one or another (each child would
   *   restart it, and stop it in its own order); nothing is recorded
   */
  supervised(child: ProcessRef, supervisor: ProcessRef): void {
    const process = this.registry.resolve(child);
    if (!process) return;
    const owner = this.registry.resolve(supervisor);
    this.#assertSupervisable(process, supervisor, owner);
    this.#supervisors.set(process, supervisor);
    if (!owner) return;
    const children = this.#liveChildren.get(owner);
    if (children) children.add(process);
    else this.#liveChildren.set(owner, new Set([process]));
  }

  /** Throws unless `process` can become a child of `supervisor` (`owner` while it lives): see {@link supervised}. */
  #assertSupervisable(process: Process, supervisor: ProcessRef, owner: Process | undefined): void {
    const refuse = (why: string): never => {
      throw new ValidationError(
        `process '${process.label}' cannot be a child of supervisor '${supervisor.name ?? supervisor.id}': ${why}`,
        { details: { field: 'process', processId: process.id, supervisorId: supervisor.id } },
      );
    };
    // Up the tree, which has no cycle: a child that would close one is refused here.
    for (let above = owner; above; above = this.registry.resolve(this.#supervisors.get(above)))
      if (above === process) refuse(above === owner ? 'it is that supervisor' : 'it supervises that supervisor');
    const current = this.#supervisors.get(process);
    if (current?.alive)
      refuse(
        current === supervisor
          ? 'it is a child of that supervisor already'
          : `supervisor '${current.name ?? current.id}' supervises it already`,
      );
  }

  /** See {@link ProcessHost.holdExit}. */
  holdExit(process: ProcessRef, until: Promise<unknown>): void {
    const held = this.registry.resolve(process);
    if (held) this.#exitHolds.set(held, until);
  }

  /** The live processes no live supervisor supervises, in spawn order. */
  unsupervised(): Process[] {
    return this.registry.all().filter((process) => !this.#supervisors.get(process)?.alive);
  }

  /** `process` exited (and is still registered): its supervisor waits for it no more. */
  exited(process: Process): void {
    const supervisor = this.registry.resolve(this.#supervisors.get(process));
    if (supervisor) this.#liveChildren.get(supervisor)?.delete(process);
  }

  /**
   * Calls `exit` (which exits `process`, with the reason it ended with) once the children `process` is stopping have
   * exited. A supervisor's teardown asks each child to stop, and XState stops a child in the middle of a transition
   * (one that stopped its own tree, say) only once that transition is over: exited at once, the supervisor told its
   * links and monitors it was gone, and settled `exited`, with that child still alive and holding its name, so an owner
   * starting the tree again from its `EXIT` found the name taken. A child not asked to stop is not waited for: nothing
   * would end that wait. A supervisor asks its children in turn, the next once the one before has exited, and holds its
   * exit until it has asked the last ({@link holdExit}): its children not asked yet are waited for through that.
   */
  exitAfterChildren(process: Process, exit: () => void): void {
    const held = this.#exitHolds.get(process);
    if (held) {
      this.#exitHolds.delete(process);
      const again = (): void => this.exitAfterChildren(process, exit);
      void held.then(again, again);
      return;
    }
    const children = this.#liveChildren.get(process);
    // Most processes supervise nothing: their exit builds no list.
    if (!children || children.size === 0) return exit();
    const stopping = [...children].filter((child) => child.stopReason !== undefined);
    if (stopping.length === 0) return exit();
    void Promise.all(stopping.map((child) => child.exited)).then(() => exit());
  }
}
