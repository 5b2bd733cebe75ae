/**
 * One process: a root XState actor plus what the runtime knows about its life (name, exit reason).
 * @module
 */
import type { Actor, AnyActorLogic, SnapshotFrom } from 'xstate';
import type { ExitReason } from './exit-reason.js';

/**
 * The handle every runtime function returns and accepts. It stays valid after the process exits, so callers
 * can still read `exitReason`; it never revives (a restarted child is a new process with a new `id`).
 * @example
 * const ref = runtime.spawn(counterMachine, { name: 'counter' });
 * ref.alive; // true
 * await runtime.stop(ref);
 * ref.exitReason; // 'shutdown'
 */
export interface ProcessRef<TLogic extends AnyActorLogic = AnyActorLogic> {
  /** Unique within its runtime, Elixir-style: `<0.12>`. */
  readonly id: string;
  /** The registered name, if it was spawned with one; kept after exit for messages. */
  readonly name: string | undefined;
  /** False from the moment the process exits (done, stopped or crashed). A hibernating process is alive. */
  readonly alive: boolean;
  /**
   * True while the process hibernates (spawned with `hibernateAfter` and idle that long): its actor is stopped
   * and its last snapshot kept; the next `call` or `cast` wakes it into a new actor, from that snapshot.
   */
  readonly hibernating: boolean;
  /** Why it exited; `undefined` while alive. */
  readonly exitReason: ExitReason | undefined;
  /** Settles (never rejects) with the exit reason once the process has exited. */
  readonly exited: Promise<ExitReason>;
  /**
   * The underlying root actor, for advanced use (subscribing, persisting). Send through the runtime instead.
   * A process that hibernated runs in a new actor once woken; reading this wakes a hibernating process. A
   * process that exited while hibernating shows a stopped actor holding its last snapshot.
   */
  readonly actor: Actor<TLogic>;
  /** The actor's current snapshot; while hibernating, the one it went to sleep with; after exit, its last one. */
  getSnapshot(): SnapshotFrom<TLogic>;
}

/**
 * The runtime's own record of a process. Only the runtime mutates it; everyone else sees a {@link ProcessRef}.
 */
export class Process<TLogic extends AnyActorLogic = AnyActorLogic> implements ProcessRef<TLogic> {
  readonly exited: Promise<ExitReason>;
  /** The reason `stop` asked for; read when XState reports completion, which does not carry one. */
  stopReason: ExitReason | undefined;
  #exitReason: ExitReason | undefined;
  #resolveExited!: (reason: ExitReason) => void;
  /** Absent while the process hibernates: dropping the actor is what hibernation saves. */
  #actor: Actor<TLogic> | undefined;
  /** While hibernating, the snapshot it went to sleep with, restored from on wake. */
  #asleep: SnapshotFrom<TLogic> | undefined;

  constructor(
    readonly id: string,
    readonly name: string | undefined,
    actor: Actor<TLogic>,
    /** Position in spawn order, so `stopAll` can go backwards. */
    readonly seq: number,
    /** Restores a hibernating process into a new actor (and calls {@link wake}); given for those that may hibernate. */
    private readonly wakeUp?: () => void,
  ) {
    this.#actor = actor;
    this.exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  get alive(): boolean {
    return this.#exitReason === undefined;
  }

  get exitReason(): ExitReason | undefined {
    return this.#exitReason;
  }

  get actor(): Actor<TLogic> {
    if (this.#actor === undefined) this.wakeUp?.();
    return this.#actor as Actor<TLogic>;
  }

  get hibernating(): boolean {
    return this.alive && this.#actor === undefined;
  }

  getSnapshot(): SnapshotFrom<TLogic> {
    return this.#asleep ?? (this.#actor as Actor<TLogic>).getSnapshot();
  }

  /** Records that the actor, whose last snapshot is `last`, was let go to hibernate. */
  hibernate(last: SnapshotFrom<TLogic>): void {
    this.#asleep = last;
    this.#actor = undefined;
  }

  /** The snapshot a hibernating process went to sleep with; `undefined` when it is not hibernating. */
  get asleepWith(): SnapshotFrom<TLogic> | undefined {
    return this.#asleep;
  }

  /** Ends the hibernation: `actor`, restored from {@link asleepWith}, runs the process from now on. */
  wake(actor: Actor<TLogic>): void {
    this.#asleep = undefined;
    this.#actor = actor;
  }

  /** For a process that exited while hibernating: an actor to show, stopped, with the snapshot it slept with. */
  keepForReading(actor: Actor<TLogic>): void {
    this.#actor = actor;
  }

  /** Records the exit once; later calls are ignored so that racing signals (stop vs. crash) cannot rewrite it. */
  markExited(reason: ExitReason): boolean {
    if (this.#exitReason !== undefined) return false;
    this.#exitReason = reason;
    // Exited while hibernating: its last snapshot says stopped, as an awake process's would.
    if (this.#asleep !== undefined) this.#asleep = { ...(this.#asleep as object), status: 'stopped' } as never;
    this.#resolveExited(reason);
    return true;
  }

  /** How the process reads in messages: its name when it has one, as that is what users know it by. */
  get label(): string {
    return this.name ?? this.id;
  }

  toString(): string {
    return this.name === undefined ? this.id : `${this.id} (${this.name})`;
  }
}
