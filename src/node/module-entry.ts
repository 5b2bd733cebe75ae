/**
 * One module of a node, running or hibernating. A module with nothing to do (empty mailbox, nothing running) for
 * the runtime's idle time hibernates: its process stops and its program is let go, and what is left is this entry
 * (spec, bindings' last values, counts), its handle and the handle's listeners. The next use wakes it in a new
 * process under the same registry name (for inspection, a new actor of the same module), rebuilt as it was
 * without a store read; the handle's listeners follow it there. A stop ends it for good, hibernating or not.
 * @module
 */
import type { Snapshot } from 'xstate';
import type { ExecutionResult, ModuleDescription } from '../../machines/module.machine.js';
import { ModuleNotFoundError, NoProcError, SessionError } from '../errors.js';
import { ModuleHandle, type ModuleHandleDeps, type ModuleHandleHooks } from '../modules/module-handle.js';
import { inputsAsCalled } from '../modules/inputs-as-called.js';
import type { ModuleInstance } from '../modules/module-instance.js';
import { moduleKey, type ModuleLogic } from '../modules/module-logic.js';
import { lostExecutionError } from '../modules/naming-execution.js';
import type { HostExecuteOptions, SharedSpec } from '../nats/module-host.js';
import type { IdleClock } from '../runtime/idle-clock.js';
import type { ProcessRef } from '../runtime/process.js';

/** The registry name of a module process. */
export function moduleProcessName(sessionId: string, moduleId: string): string {
  return `tether.module.${sessionId}.${moduleId}`;
}

/** What a node's modules run on. */
export interface ModuleEntryDeps extends ModuleHandleDeps {
  /** How long a module may have nothing to do before it hibernates (the runtime's `sessionTtlMs`). */
  readonly hibernateAfterMs: number;
}

/** What an entry needs from its directory: one object for all of a node's entries. */
export interface ModuleEntryHost {
  readonly deps: ModuleEntryDeps;
  readonly logic: ModuleLogic;
  /** When each running module last had something to do; one sweeper for the node. */
  readonly idle: IdleClock<ModuleEntry>;
  /** Whether the node is stopping (see `ModuleDirectory.close`): its modules take no new use. */
  closed(): boolean;
  /** The module stopped for good: the directory forgets it. */
  forget(entry: ModuleEntry): void;
  /** An explicit stop through the handle (on a NATS node, of the module everywhere). */
  stopModule(entry: ModuleEntry): Promise<void>;
}

/** A module of this node. Its methods of {@link ModuleHandleHooks} are what its handle calls. */
export class ModuleEntry implements ModuleHandleHooks {
  readonly handle: ModuleHandle;
  /** Set when the node's connection dropped: the spec may have been removed meanwhile, unseen. */
  recheck = false;
  /**
   * Set when the watch of the modules bucket saw the spec removed or replaced: the process is stopping and serves
   * no request from then on, though it holds its name until it has stopped.
   */
  stale = false;
  /** Its process; `undefined` while the module hibernates, and once it has stopped for good. */
  #process: ProcessRef<ModuleLogic> | undefined;
  /** While the module hibernates on a runtime with an inspector, the persisted snapshot of the actor it let go. */
  #asleep: Snapshot<unknown> | undefined;
  /** The counts of its earlier processes, carried into the next one (`describe` counts the module's executions). */
  #counts: Pick<ModuleDescription, 'completed' | 'failed'> | undefined;
  #ended = false;
  /**
   * Why the module was stopped here, as its handle's later calls are told; unset when its process exited by itself
   * (crashed, killed, the node stopping), which they hear as `NoProcError`.
   */
  #endError: (() => Error) | undefined;
  /** What to do when the module stops for good (see {@link atEnd}). */
  #atEnd: (() => void)[] = [];

  constructor(
    private readonly host: ModuleEntryHost,
    readonly instance: ModuleInstance,
    /**
     * The spec in the modules bucket the module was started from, or for a module that stays on this node (its
     * spec holds functions) its claim there (`local`); none on a runtime without NATS.
     */
    readonly shared: SharedSpec | undefined,
  ) {
    this.handle = new ModuleHandle(instance.moduleId, instance.session.sessionId, host.deps, this);
    instance.wantsDeltas = () => this.handle.wantsDeltas;
  }

  /** `<session>.<module>`, the module's key in its directory. */
  get key(): string {
    return moduleKey(this.handle.sessionId, this.handle.moduleId);
  }

  /** Its running process, if it has one (none while hibernating). */
  get process(): ProcessRef<ModuleLogic> | undefined {
    return this.#process;
  }

  /** Whether it stopped for good here (stopped, its process crashed or stopped, its session ended). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Why it ended here, as its handle's calls are told; `undefined` while it has not. */
  get endError(): Error | undefined {
    return this.#ended ? this.#endError?.() : undefined;
  }

  /** Whether it can serve here: not stopped, and running or hibernating (then {@link wake} starts a process). */
  get live(): boolean {
    return !this.#ended && (this.#process?.alive ?? true);
  }

  /** Starts the module's first process. */
  start(): void {
    this.#run();
  }

  /** The module's process, woken when it hibernates (its program rebuilt as it was, no store read). */
  wake(): ProcessRef<ModuleLogic> {
    // As every session use is refused from then on; an execution already in the process finishes or is ended.
    if (this.host.closed()) throw new SessionError('session_stopped', this.handle.sessionId);
    if (this.#process) {
      this.touch();
      return this.#process;
    }
    if (this.#ended)
      throw this.#endError?.() ?? new NoProcError(moduleProcessName(this.handle.sessionId, this.handle.moduleId));
    this.instance.resume();
    return this.#run();
  }

  /** An execution's use of the session, stamped first when it is near its expiry (see `SessionContext.use`). */
  use(): Promise<unknown> | undefined {
    return this.instance.session.use?.();
  }

  asleep(): ModuleDescription | undefined {
    if (this.#process || this.#ended || !this.#counts) return undefined;
    const { sessionId, moduleId } = this.handle;
    const { moduleType, spec } = this.instance;
    return { moduleId, sessionId, moduleType, signature: spec.signature, state: 'idle', queued: 0, ...this.#counts };
  }

  /**
   * Queues one execution in the module's mailbox, waking it if it hibernates; as the module endpoints run it (the
   * embedded handle has its own, see `ModuleHandle.execute`).
   */
  async execute(given: Readonly<Record<string, unknown>>, options: HostExecuteOptions): Promise<ExecutionResult> {
    // Frozen as an embedded execute freezes them: an inspector on this node that edits a snapshot changes nothing.
    const inputs = inputsAsCalled(given);
    // A use of the session until it ends (as for an embedded execute, see ModuleHandle.execute).
    const used = this.use();
    if (used) await used;
    this.wake();
    // Before the mailbox, as for an embedded execute (see ModuleHandle.execute), which says why it wakes it again.
    const invalid = await this.instance.inputProblemNow(inputs);
    if (invalid) throw invalid;
    const process = this.wake();
    const { executionId } = options;
    const { processes, executionTimeoutMs } = this.host.deps;
    try {
      const timeout = options.timeoutMs ?? executionTimeoutMs;
      return (await processes.call(process, { type: 'execute', executionId, inputs }, { timeout })) as ExecutionResult;
    } catch (error) {
      // Over the wire too, the caller's error names the execution it lost.
      const ids = { sessionId: this.handle.sessionId, moduleId: this.handle.moduleId, executionId };
      const cancel = () => processes.cast(process, { type: 'cancel', executionId, reason: 'timed out' });
      throw lostExecutionError(error, process, ids, cancel);
    } finally {
      this.touch();
    }
  }

  /** Cancels an execution queued or running here; `true` when there was one. A hibernating module is not woken. */
  async cancel(executionId: string, reason?: string): Promise<boolean> {
    const process = this.#process;
    // A hibernating module has nothing queued nor running.
    if (!process?.alive) return false;
    const event = { type: 'cancel', executionId, ...(reason === undefined ? {} : { reason }) };
    try {
      return (await this.host.deps.processes.call(process, event)) === true;
    } catch (error) {
      // Stopped meanwhile: whatever it was running was rejected with it.
      if (error instanceof NoProcError) return false;
      throw error;
    }
  }

  /** Counts as activity: the module hibernates one idle time after the last. */
  touch(): void {
    if (this.#process) this.host.idle.touch(this, this.host.deps.hibernateAfterMs);
  }

  checkInputs(inputs: Readonly<Record<string, unknown>>): Error | undefined | Promise<Error | undefined> {
    return this.instance.inputProblemNow(inputs);
  }

  stop(): Promise<void> {
    return this.host.stopModule(this);
  }

  /** Whether its process has anything to do: an execution running (a sync included) or waiting in its mailbox. */
  get busy(): boolean {
    const process = this.#process;
    if (!process?.alive) return false;
    const { value, context } = process.getSnapshot();
    return value !== 'idle' || context.mailbox.length > 0 || context.current !== null;
  }

  /**
   * Lets the process go if the module is idle: asked by the idle clock, or (`now`) as its session hibernates. One
   * with anything in its mailbox or running stays (the clock asks again one idle time later), so a hibernation
   * never loses an execution.
   */
  hibernate(now = false): void {
    const process = this.#process;
    if (!process?.alive) return this.host.idle.forget(this);
    if (this.busy) {
      if (!now) this.touch();
      return;
    }
    this.host.idle.forget(this);
    const { context } = process.getSnapshot();
    this.#counts = { completed: context.completed, failed: context.failed };
    // Unnamed first: the process's exit below is a hibernation, not the module's end.
    this.#process = undefined;
    this.handle.release(false);
    this.instance.hibernate();
    // Called from a timer or a promise, so no actor is processing an event: the machine ends in `hibernated` (what an
    // inspector shows, where a stop would look like the module's end), and the process frees its name, at once.
    process.actor.send({ type: 'module.hibernate' });
    // For an inspector only: what it last saw of the module, shown stopped if the module ends asleep.
    if (this.host.deps.processes.inspecting) this.#asleep = process.actor.getPersistedSnapshot();
    if (process.alive) void this.host.deps.processes.stop(process, 'normal');
  }

  /**
   * Stops this node's process of the module, which ends it here for good; a hibernating module has none and ends
   * at once, without being woken. `why` is what the handle's calls get from then on: by default the module is gone
   * (`ModuleNotFoundError`, as a remote handle hears it), as after a stop or the removal of its spec; a session's end
   * gives its own `SessionError`.
   */
  stopProcess(
    why: () => Error = () => new ModuleNotFoundError(this.handle.sessionId, this.handle.moduleId),
  ): Promise<void> {
    if (!this.#ended) this.#endError ??= why;
    if (this.#process) return this.host.deps.processes.stop(this.#process);
    this.end();
    return Promise.resolve();
  }

  /**
   * Calls `cleanup` when the module stops for good here (at once if it has): not when it hibernates, so what lives
   * as long as the module (an observer's listeners, a node-local module's claim of its id) outlives its
   * processes.
   */
  atEnd(cleanup: () => void): void {
    if (this.#ended) cleanup();
    else this.#atEnd.push(cleanup);
  }

  /** The module stopped for good here: its handle dead, its observers told, its directory forgets it. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#process = undefined;
    // Ended while hibernating: an inspector last saw its actor let go (`hibernated`), and must see it stopped.
    if (this.#asleep) {
      const name = moduleProcessName(this.handle.sessionId, this.handle.moduleId);
      this.host.deps.processes.inspectStopped(this.host.logic, name, this.#asleep);
    }
    this.#asleep = undefined;
    this.host.idle.forget(this);
    this.handle.release(true);
    for (const cleanup of this.#atEnd.splice(0)) cleanup();
    this.host.forget(this);
  }

  /** Starts a process for the module: when it is created, and when it wakes from hibernation. */
  #run(): ProcessRef<ModuleLogic> {
    const { handle, instance } = this;
    const name = moduleProcessName(handle.sessionId, handle.moduleId);
    const process: ProcessRef<ModuleLogic> = this.host.deps.processes.spawn(this.host.logic, {
      name,
      // What an inspector names the actor by, the same after each wake.
      systemId: name,
      input: {
        moduleId: handle.moduleId,
        sessionId: handle.sessionId,
        moduleType: instance.moduleType,
        signature: instance.spec.signature,
        ...this.#counts,
      },
    });
    this.#process = process;
    this.#asleep = undefined;
    handle.attach(process);
    this.touch();
    void process.exited.then((reason) => {
      // A hibernation let this process go on purpose (it is no longer the entry's, and held nothing): the module
      // lives on. Any other exit ends it, and first announces what it held, while observers still listen.
      if (this.#process !== process) return;
      handle.exited(process, reason);
      this.end();
    });
    return process;
  }
}
