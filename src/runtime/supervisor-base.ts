/**
 * What `Supervisor` and `DynamicSupervisor` share: a process of their own, child watching, serialized restart
 * work, restart intensity, and terminating the children when the supervisor exits.
 * @module
 */
import { fromCallback } from 'xstate';
import { ChildStartError, MaxRestartIntensityError, NoProcError, ValidationError } from '../errors.js';
import { spawnChild, type ChildStart } from './child-spec.js';
import { crashErrorOf, formatExitReason, isAbnormal, linkedExit, type ExitReason } from './exit-reason.js';
import type { ExitNotice } from './links.js';
import type { Demonitor } from './monitors.js';
import type { ProcessHost } from './process-host.js';
import type { ProcessRef } from './process.js';
import { RestartIntensity, type RestartIntensityOptions } from './restart-intensity.js';

/** Options every supervisor takes. */
export interface SupervisorBaseOptions extends RestartIntensityOptions {
  /** A name to register the supervisor's own process under. */
  readonly name?: string;
}

/**
 * A supervisor is a plain object driving the runtime through monitors, plus a process of its own. The process
 * makes the supervisor a first-class citizen: `whereis` finds it, `monitor` and `link` work on it (it traps exits:
 * a child linked to it does not take it down, any other linked process does), `stopAll` stops it, and
 * `runtime.stop(supervisor.ref)` terminates its children, newest first, each once the one after it has exited, before
 * it exits, because the process's teardown is what terminates them.
 */
export abstract class SupervisorBase {
  /** The supervisor's own process. */
  readonly ref: ProcessRef;
  protected readonly runtime: ProcessHost;
  readonly #intensity: RestartIntensity;
  #queue: Promise<void> = Promise.resolve();
  #terminating = false;
  /** The ids of the children started so far that have not exited yet, stopped by the supervisor or not. */
  readonly #childIds = new Set<string>();

  protected constructor(runtime: ProcessHost, options: SupervisorBaseOptions) {
    if (typeof (runtime as Partial<ProcessHost> | null | undefined)?.spawn !== 'function') {
      const got = runtime === null ? 'null' : typeof runtime;
      throw new ValidationError(`a supervisor starts on a Runtime or a ProcessRuntime, got ${got}`, {
        details: { field: 'runtime', got },
      });
    }
    this.runtime = runtime;
    this.#intensity = new RestartIntensity(options);
    // The callback's cleanup runs when the process is stopped, for whatever reason and by whomever.
    const logic = fromCallback<ExitNotice>(({ receive }) => {
      receive((notice) => this.#linkedExit(notice));
      return () => {
        this.#terminating = true;
        const rest = this.terminateChildren();
        if (rest) this.runtime.holdExit?.(this.ref, rest);
      };
    });
    this.ref = runtime.spawn(logic, { ...(options.name !== undefined ? { name: options.name } : {}), trapExit: true });
  }

  /**
   * A linked process exited. The supervisor traps exits, as OTP's do, so that a child linked to it does not take it
   * down: a child's exit is the monitor's to handle (a restart). Any other linked process is its owner, and takes it
   * down whatever its reason, as OTP's supervisor exits with its parent: a link to its owner ties the supervisor's
   * life, and so its children's, to the owner's, and an owner that finished normally leaves neither running nor
   * their names taken. After a normal exit the supervisor's is normal too, as in OTP: it takes nothing else down.
   * An EXIT the runtime did not deliver (an event of that shape cast to it, or a notice another process passed on) is
   * no exit signal, only a message: ignored, as every other event sent to it is, where OTP's supervisor logs an
   * unexpected message and carries on. A host without `isExitNotice` cannot tell them apart.
   */
  #linkedExit(notice: ExitNotice): void {
    if (notice.type !== 'EXIT' || this.#childIds.has(notice.id)) return;
    if (this.runtime.isExitNotice && !this.runtime.isExitNotice(notice, this.ref)) return;
    const reason = isAbnormal(notice.reason) ? linkedExit(notice.id, notice.reason) : 'normal';
    void this.stop(reason).catch(() => {});
  }

  /** Its name, or its process id: how errors name it. */
  get label(): string {
    return this.ref.name ?? this.ref.id;
  }

  /** False once the supervisor has exited. */
  get alive(): boolean {
    return this.ref.alive;
  }

  /** Why the supervisor exited; `'shutdown'` when it gave up restarting, as OTP's (see {@link allowRestart}). */
  get exitReason(): ExitReason | undefined {
    return this.ref.exitReason;
  }

  /** Settles with the exit reason once the supervisor (and so every child) has exited. */
  get exited(): Promise<ExitReason> {
    return this.ref.exited;
  }

  /** Stops every child, newest first, then the supervisor. */
  stop(reason: ExitReason = 'shutdown'): Promise<void> {
    return this.runtime.stopProcess(this.ref, reason);
  }

  /**
   * Stops every running child, newest first, without restarting any; called as the supervisor exits. Returns what is
   * left to do when a child did not exit at once (see {@link terminateInTurn}), which the supervisor's exit waits for.
   */
  protected abstract terminateChildren(): Promise<void> | undefined;

  /**
   * Runs `terminate` on each of `children` in turn, the next only once the child before has exited, as OTP's
   * supervisor waits for each child's exit before it stops the one started before it: a child in the middle of a
   * transition (one that asked for this very shutdown, say) exits only once that transition is over, and its older
   * siblings, which it may use, must still be there until then. `terminate` returns the exit still to come, or
   * `undefined` when the child exited as it was asked; so a walk in which every child exits at once is over before
   * this returns (`undefined`), and a supervisor stopped outside its children's transitions has none left when its
   * `stop()` returns. Otherwise this returns a promise that settles once the last child was asked and has exited.
   */
  protected terminateInTurn<T>(
    children: readonly T[],
    terminate: (child: T) => Promise<unknown> | undefined,
    from = 0,
  ): Promise<void> | undefined {
    for (let index = from; index < children.length; index++) {
      const exiting = terminate(children[index]!);
      if (exiting) return exiting.then(() => this.terminateInTurn(children, terminate, index + 1));
    }
    return undefined;
  }

  /**
   * Asks `child` to stop with `'shutdown'` and returns its exit still to come: `undefined` when it exited as it was
   * asked, as a child outside a transition of its own does.
   */
  protected shutdown(child: ProcessRef): Promise<unknown> | undefined {
    void this.runtime.stopProcess(child, 'shutdown').catch(() => {});
    return child.alive ? child.exited : undefined;
  }

  /** True from the moment the supervisor's process is asked to stop: its children are being terminated. */
  protected get terminating(): boolean {
    return this.#terminating;
  }

  /**
   * False once the supervisor is terminating or the runtime is stopping everything: exits seen then are the
   * shutdown itself, not failures. Re-check after every `await` in restart work.
   */
  protected get supervising(): boolean {
    return !this.#terminating && this.ref.alive && !this.runtime.stopping;
  }

  /**
   * Starts a child from `start`. A child whose start stopped this supervisor (it stopped the children it knew of, not
   * this one) is stopped again, and this throws: nothing would ever stop or restart it.
   * @throws {NoProcError} naming this supervisor, when it stopped while the child started
   */
  protected spawnSupervised(start: () => ChildStart): ProcessRef {
    const ref = spawnChild(this.runtime, start);
    this.runtime.supervised?.(ref, this.ref);
    // Known as a child until it has exited: its EXIT comes as it exits, and `exited` settles after.
    this.#childIds.add(ref.id);
    void ref.exited.then(() => this.#childIds.delete(ref.id));
    if (this.#terminating || !this.ref.alive) {
      void this.runtime.stopProcess(ref, 'shutdown').catch(() => {});
      throw new NoProcError(this.label);
    }
    return ref;
  }

  /**
   * Monitors a child. `onExit` gets the child's real exit reason (a child that died while starting is
   * otherwise only `'noproc'` to a monitor) and runs after any restart work already under way.
   */
  protected watch(child: ProcessRef, onExit: (reason: ExitReason) => Promise<void> | void): Demonitor {
    return this.runtime.monitor(child, (notice) => {
      const reason = child.exitReason ?? notice.reason;
      this.#queue = this.#queue
        .then(() => (this.supervising ? onExit(reason) : undefined))
        // A bug in restart work must not leave a half-restarted tree running: the supervisor exits with it,
        // and the runtime reports it through onError like any crash.
        .catch((error: unknown) => void this.stop({ error }));
    });
  }

  /**
   * Counts one restart of child `childId`, which exited with `exit` or whose restart failed to start. When it is one
   * too many, this returns false and the supervisor exits with `'shutdown'`, as OTP's does
   * (`reached_max_restart_intensity` is only in OTP's supervisor report, not in the exit reason): a DOWN or EXIT handler
   * matching `'shutdown'` sees it as the orderly stop it is. Why it stopped is told to `onError` first, as a
   * {@link MaxRestartIntensityError} naming the supervisor and the child.
   */
  protected allowRestart(childId: string, exit: ExitReason | ChildStartError): boolean {
    if (this.#intensity.record()) return true;
    const failedStart = exit instanceof ChildStartError;
    const { maxRestarts, maxSeconds } = this.#intensity;
    this.#reportRestartFault(
      new MaxRestartIntensityError(
        this.label,
        childId,
        failedStart ? 'failed to start' : formatExitReason(exit),
        maxRestarts,
        maxSeconds,
        { cause: failedStart ? exit : crashErrorOf(exit) },
      ),
    );
    void this.stop('shutdown');
    return false;
  }

  /**
   * Restarts a child with `start`, retrying failed starts, which count against the intensity like exits do.
   * Every attempt waits for a macrotask first, so restart work never keeps the event loop to itself: however the
   * intensity is set (a window so short it forgets restarts as fast as they come, say), a child that keeps failing
   * to start, or crashes as soon as it is up, lets timers and I/O run between its restarts. Fake timers that fake
   * `setImmediate` therefore hold restarts until they are advanced. Each failed attempt is told to the runtime's
   * `onError` as a `ChildStartError` naming `childId` (source `'restart'`), the start's error its cause; one attempt
   * too many is told after it as the supervisor giving up (see {@link allowRestart}).
   * @returns false when the supervisor gave up (or is terminating)
   */
  protected async restartWithRetry(childId: string, start: () => void): Promise<boolean> {
    for (;;) {
      await nextMacrotask();
      if (!this.supervising) return false;
      try {
        start();
        return true;
      } catch (error) {
        const failure = new ChildStartError(this.label, childId, { cause: error });
        this.#reportRestartFault(failure);
        if (!this.allowRestart(childId, failure)) return false;
      }
    }
  }

  /** Tells the runtime's `onError` of a fault of the restart work (source `'restart'`); logs it on a host without one. */
  #reportRestartFault(error: ChildStartError | MaxRestartIntensityError): void {
    if (this.runtime.reportFault) this.runtime.reportFault(error, this.ref, 'restart');
    else console.error(`[tether] restart of process ${this.label}:`, error);
  }
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
