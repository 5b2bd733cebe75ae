/**
 * The process runtime: Elixir process semantics (registry, call/cast, monitors, links, exit reasons, idle
 * hibernation) for any XState actor logic.
 * @module
 */
import {
  type Actor,
  type AnyActor,
  type AnyActorLogic,
  type AnyEventObject,
  type EventObject,
  type InspectionEvent,
  type Observer,
  type Snapshot,
} from 'xstate';
import { NoProcError } from '../errors.js';
import { REPLY, type ReplyEvent } from '../../machines/protocol.js';
import { isAbnormal, isCrash, linkedExit, type ExitReason } from './exit-reason.js';
import { Links, type ExitNotice } from './links.js';
import { Monitors, type Demonitor, type DownNotice, type MonitorTarget } from './monitors.js';
import { IdleClock } from './idle-clock.js';
import { PendingCalls } from './pending-calls.js';
import { ProcessActor } from './process-actor.js';
import { Process, type ProcessRef } from './process.js';
import { Registry } from './registry.js';
import { FaultReporter } from './fault-reporter.js';
import { assertHibernateAfter, hasWorkOrWatchers, resumingFrom, type Sleeper } from './hibernation.js';
import { assertBooleanOption, assertFunctionOption, assertInspectOption, assertOptionKeys } from './option-keys.js';
import {
  PROCESS_RUNTIME_KEYS,
  SPAWN_KEYS,
  type CallOptions,
  type FaultSource,
  type ProcessRuntimeOptions,
  type SpawnOptions,
  type Target,
} from './process-runtime-options.js';
import {
  assertLogic,
  assertSystemId,
  assertWatcher,
  callOptionsProblem,
  exitReasonProblem,
  eventProblem,
  idOf,
  isRef,
  labelOf,
  nameOf,
  timeoutProblem,
  withCallId,
} from './process-arguments.js';

// The options live apart so the helpers can read them; re-exported so `process-runtime.js` stays their path.
export {
  MAX_TIMEOUT_MS,
  type CallOptions,
  type FaultSource,
  type ProcessRuntimeOptions,
  type SpawnOptions,
  type Target,
} from './process-runtime-options.js';

/**
 * Runs XState actors as Elixir-style processes. Each process is a root actor (never a child of one XState
 * parent, where spawning is quadratic), observed so that no crash ever reaches Node's uncaught-exception path.
 *
 * A target that is no process at all (`undefined` from a `whereis` that found nothing, a number) is taken as a
 * process that is not alive, each method answering as it does for one; a {@link NoProcError} names it as it
 * prints (`'undefined'`).
 * @example
 * const runtime = new ProcessRuntime({ onError: (e, p) => log(p.id, e) });
 * runtime.spawn(counterMachine, { name: 'counter' });
 * const n = await runtime.call('counter', { type: 'increment' });
 * await runtime.stopAll();
 */
export class ProcessRuntime {
  readonly #registry = new Registry();
  readonly #pending = new PendingCalls();
  readonly #monitors = new Monitors();
  readonly #links = new Links();
  /** While {@link stopAllOf} runs: the processes its stops' exits must not take down (see there). */
  #spared: ((process: ProcessRef) => boolean) | undefined;
  /**
   * Exit signals on their way to linked processes (see {@link #deliverExitSignals}): a `reason` stops the peer, a
   * `notice` is the event a peer that traps exits gets instead.
   */
  readonly #exitSignals: ({ readonly peer: Process } & (
    { readonly reason: ExitReason } | { readonly notice: ExitNotice }
  ))[] = [];
  /** The processes spawned with `trapExit: true`. */
  readonly #trapping = new WeakSet<Process>();
  /** Each EXIT notice this runtime made, and the process it was made for (see {@link isExitNotice}). */
  readonly #exitNotices = new WeakMap<object, Process>();
  /** The supervisor of each supervised process (see {@link supervised}). */
  readonly #supervisors = new WeakMap<Process, ProcessRef>();
  /** The supervised processes of each supervisor that have not exited yet: its exit waits for theirs. */
  readonly #liveChildren = new WeakMap<Process, Set<Process>>();
  /** What each supervisor's exit waits for besides its children asked to stop (see {@link holdExit}). */
  readonly #exitHolds = new WeakMap<Process, Promise<unknown>>();
  #deliveringExitSignals = false;
  /** The actor being put to sleep now (see `#hibernate`), whose stop the inspector is not shown. */
  #sleeping: AnyActor | undefined;
  /** The actor whose `start()` is running now: its crash is shown to the inspector after XState's start snapshot. */
  #starting: AnyActor | undefined;
  readonly #inspect: Observer<InspectionEvent> | undefined;
  /** Where crashes and errors thrown by listeners and the inspector go. */
  readonly #faults: FaultReporter;
  /** The processes spawned with `hibernateAfter`, and their idle time. */
  readonly #sleepers = new Map<Process, Sleeper>();
  /** Processes that exited while hibernating, for the actor `ref.actor` still shows. */
  readonly #retired = new WeakMap<Process, Sleeper>();
  readonly #idle = new IdleClock<Process>((process) => this.#hibernate(process));
  #seq = 0;
  #callSeq = 0;
  #stopping = 0;

  constructor(options: ProcessRuntimeOptions = {}) {
    assertOptionKeys(options, 'ProcessRuntime', PROCESS_RUNTIME_KEYS);
    assertFunctionOption('ProcessRuntime', 'onError', options.onError);
    assertInspectOption('ProcessRuntime', options.inspect);
    this.#faults = new FaultReporter(options);
    const inspect = this.#faults.inspect;
    // XState inspects the stop of an actor put to sleep as any stop: the process it ran is alive all the same.
    this.#inspect = inspect && {
      next: (event) => {
        if (event.actorRef !== this.#sleeping) inspect.next?.(event);
      },
    };
  }

  /**
   * Starts `logic` as a new root actor. A process whose logic fails or finishes while starting is returned
   * already exited (check `alive`), as `spawn` in Elixir does not fail for what the process does.
   * @throws {AlreadyExistsError} when `name` is held by a live process
   * @throws {ValidationError} when `options` is no object or names an option spawn does not take, `name` is not a
   * non-empty string, nor `systemId` when given, `hibernateAfter` is not a duration in range (1 ms up), `trapExit` is
   * not a boolean, or `logic` is not XState actor logic
   */
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options: SpawnOptions<TLogic> = {}): ProcessRef<TLogic> {
    assertOptionKeys(options, 'spawn', SPAWN_KEYS);
    const { name, input, systemId, hibernateAfter, trapExit } = options;
    assertLogic(logic);
    assertBooleanOption('spawn', 'trapExit', trapExit);
    if (systemId !== undefined) assertSystemId(systemId);
    if (hibernateAfter !== undefined) assertHibernateAfter(logic, hibernateAfter);
    if (name !== undefined) this.#registry.assertClaimable(name);
    const seq = ++this.#seq;
    const id = `<0.${seq}>`;
    const actor = this.#createActor(logic, name ?? id, systemId, input !== undefined ? { input } : {});
    const wakeUp = hibernateAfter === undefined ? undefined : () => this.#wake(process);
    const process: Process<TLogic> = new Process<TLogic>(id, name, actor as Actor<TLogic>, seq, wakeUp);
    this.#registry.add(process);
    if (trapExit) this.#trapping.add(process);
    if (hibernateAfter !== undefined) {
      const resume = resumingFrom(logic);
      this.#sleepers.set(process, { resume, systemId, afterMs: hibernateAfter, subscription: undefined });
      this.#idle.touch(process, hibernateAfter);
    }
    this.#run(process);
    return process;
  }

  /** The live process registered under `name`. */
  whereis(name: string): ProcessRef | undefined {
    return this.#registry.get(name);
  }

  /** Every live process, in spawn order. */
  processes(): ProcessRef[] {
    return this.#registry.all();
  }

  /**
   * Whether `target` (a handle, or a registered name) is a live process of this runtime, as Elixir's
   * `Process.alive?`; a hibernating one is. A handle of another runtime's process is not one of this runtime's.
   */
  isAlive(target: Target): boolean {
    return this.#registry.resolve(target) !== undefined;
  }

  /** True while {@link ProcessRuntime.stopAll} runs; supervisors do not restart children meanwhile. */
  get stopping(): boolean {
    return this.#stopping > 0;
  }

  /**
   * GenServer.call: delivers `event` with a fresh `callId` and waits for the `tether.reply` the process emits.
   * Declare `callId?` in the machine's events (e.g. with `CallEnvelope`) to read it there.
   * @throws {ValidationError} (rejects at once) when `event` is not an object with a string `type`, `options` names
   * an option other than `timeout`, or `timeout` is not a number in range; the target is not touched
   * @throws {NoProcError} (rejects at once) when the target is not alive
   * @throws {CallTimeoutError} when no reply comes within `timeout`; a later reply is dropped
   * @throws {ProcessExitedError} when the target exits first; `cause` is the crash error, if it crashed
   * @throws the typed error rebuilt from an `ok: false` reply
   */
  call(target: Target, event: AnyEventObject, options: CallOptions = {}): Promise<unknown> {
    // Read here rather than destructured in the signature, where `null` options would throw instead of rejecting, and
    // once checked: a getter or proxy of the caller's that throws is refused as the options it is.
    const badOptions = callOptionsProblem(options);
    if (badOptions) return Promise.reject(badOptions);
    const { timeout = 5000 } = options ?? {};
    const badTimeout = timeoutProblem(timeout);
    if (badTimeout) return Promise.reject(badTimeout);
    const badEvent = eventProblem(event, 'call');
    if (badEvent) return Promise.reject(badEvent);
    const process = this.#registry.resolve(target);
    if (!process) return Promise.reject(new NoProcError(labelOf(target)));
    const callId = `${process.id}#${++this.#callSeq}`;
    // Waiting before the wake: a woken actor that fails as it starts exits the process, failing this call.
    const reply = this.#pending.add(process, callId, labelOf(target), timeout);
    this.#touch(process);
    // Reading `actor` wakes a hibernating process.
    const { actor } = process;
    if (process.alive) actor.send(withCallId(event, callId));
    return reply;
  }

  /**
   * Fire and forget. To a target that is not alive the event is dropped, as in Elixir. A `callId` in `event` is
   * left out of what the process gets: only a `call`'s reply may settle a call.
   * @throws {ValidationError} when `event` is not an object with a string `type`, whatever the target: a mistake
   * of the sender's, not a message that can be lost, and one that would crash the receiving process
   */
  cast(target: Target, event: AnyEventObject): void {
    const badEvent = eventProblem(event, 'cast');
    if (badEvent) throw badEvent;
    // Call ids are predictable (`<pid>#<n>`): one carried by a cast would make the process's reply settle another
    // caller's pending call. Copied only then: most casts carry none.
    this.#deliver(target, 'callId' in event ? withCallId(event, undefined) : event);
  }

  /** Sends a checked event to `target` as it is, waking it; dropped when the target is not alive. */
  #deliver(target: Target, event: AnyEventObject): void {
    const process = this.#registry.resolve(target);
    if (!process) return;
    this.#touch(process);
    const { actor } = process;
    if (process.alive) actor.send(event);
  }

  /**
   * Stops the process with `reason` and settles once it has exited, as `GenServer.stop(pid, reason)` does: its
   * cleanup runs (a callback actor's, XState's exit actions) and it exits with `reason` exactly as given, `'kill'`
   * included (there is no untrappable `Process.exit(pid, :kill)`, nor its `killed`; see `ExitReason`), whether it traps
   * exits or not. Stopping a process that is not alive does nothing, so cleanup code can stop unconditionally.
   * @throws {ValidationError} (rejects) when `reason` is no exit reason (see `ExitReason`); nothing is stopped
   */
  stop(target: Target, reason: ExitReason = 'shutdown'): Promise<void> {
    const badReason = exitReasonProblem(reason);
    if (badReason) return Promise.reject(badReason);
    const process = this.#registry.resolve(target);
    if (!process) return Promise.resolve();
    this.#signal(process, reason);
    return process.exited.then(() => undefined);
  }

  /** The same as {@link stop}, under the name `Runtime` has too (see `ProcessHost`). */
  stopProcess(target: Target, reason: ExitReason = 'shutdown'): Promise<void> {
    return this.stop(target, reason);
  }

  /**
   * Stops every process, waiting for each to exit; also those spawned meanwhile. Those no live supervisor supervises
   * go newest first; a supervised one goes with its supervisor, which stops its children in its own order (reverse
   * start order), whenever one of them was restarted or started: by spawn order alone, a child restarted or started on
   * demand went first, before the siblings started after it, which may use it.
   */
  async stopAll(reason: ExitReason = 'shutdown'): Promise<void> {
    return this.stopAllOf(() => true, reason);
  }

  /**
   * @internal {@link stopAll} of the processes `selected` takes (judged by the unsupervised ones, a supervised one
   * going with its supervisor): a runtime stops its user's processes before its own, which they use. Their exits
   * meanwhile take down no process `selected` leaves out: a user's worker linked to a session's process must not
   * kill it, cutting off a write in flight that the session's own stop, next, lets finish.
   */
  async stopAllOf(selected: (process: ProcessRef) => boolean, reason: ExitReason = 'shutdown'): Promise<void> {
    this.#stopping++;
    const spared = this.#spared;
    this.#spared = (process) => !selected(process);
    const roots = () => this.#unsupervised().filter(selected);
    try {
      for (let found = roots(); found.length > 0; found = roots())
        for (let i = found.length - 1; i >= 0; i--) await this.stop(found[i]!, reason);
    } finally {
      this.#spared = spared;
      this.#stopping--;
    }
  }

  /** Whether an inspector watches this runtime's processes (the `inspect` option). */
  get inspecting(): boolean {
    return this.#inspect !== undefined;
  }

  /**
   * Shows the inspector that a process let go asleep, to start another actor of the same name later (a module
   * hibernating: its machine ends in `hibernated`, status `done`; a process spawned with `hibernateAfter`), has ended
   * for good: an actor of that name, restored from `snapshot` (the let-go actor's persisted one), stopped as XState
   * shows a running actor's stop (`xstate.stop`, status `stopped`). Without it, its last snapshot would stand for ever.
   */
  inspectStopped(logic: AnyActorLogic, name: string, snapshot: Snapshot<unknown>): void {
    this.#showStopped(logic, snapshot, name);
  }

  /**
   * {@link inspectStopped} for `process`, or a process that has none left by its name. The actor made for the
   * inspector is attributed to it before it is shown: what the inspector throws there is reported as its error on any
   * other actor of the process is, where it was kept unreported for good with the errors of actors not attributed yet.
   */
  #showStopped(logic: AnyActorLogic, snapshot: Snapshot<unknown>, process: Process | string): void {
    const inspect = this.#inspect;
    if (!inspect) return;
    const name = typeof process === 'string' ? process : (process.name ?? process.id);
    const actor = this.#createActor(logic, name, name, { snapshot });
    this.#faults.attribute(actor.system, process);
    inspect.next?.({
      type: '@xstate.snapshot',
      actorRef: actor,
      rootId: actor.sessionId,
      snapshot: { ...actor.getSnapshot(), status: 'stopped' },
      event: { type: 'xstate.stop' },
    } as InspectionEvent);
  }

  /** See {@link ProcessHost.reportFault}. */
  reportFault(error: unknown, process: ProcessRef, source: FaultSource): void {
    this.#faults.report(error, process, source);
  }

  /** See {@link ProcessHost.supervised}. */
  supervised(child: ProcessRef, supervisor: ProcessRef): void {
    const process = this.#registry.resolve(child);
    if (!process) return;
    this.#supervisors.set(process, supervisor);
    const owner = this.#registry.resolve(supervisor);
    if (!owner) return;
    const children = this.#liveChildren.get(owner);
    if (children) children.add(process);
    else this.#liveChildren.set(owner, new Set([process]));
  }

  /** See {@link ProcessHost.holdExit}. */
  holdExit(process: ProcessRef, until: Promise<unknown>): void {
    const held = this.#registry.resolve(process);
    if (held) this.#exitHolds.set(held, until);
  }

  /**
   * See {@link ProcessHost.isExitNotice}. Known by the object itself, which the runtime hands to the process as it
   * made it: a copy, or the same notice passed on to another process, is not one.
   */
  isExitNotice(event: unknown, to: Target): boolean {
    const process = this.#registry.resolve(to);
    return (
      process !== undefined && typeof event === 'object' && event !== null && this.#exitNotices.get(event) === process
    );
  }

  /** The live processes no live supervisor supervises, in spawn order. */
  #unsupervised(): Process[] {
    return this.#registry.all().filter((process) => !this.#supervisors.get(process)?.alive);
  }

  /**
   * Monitors `target`: one {@link DownNotice} when it exits, or a `'noproc'` notice (asynchronously) when it
   * is not alive. With `{ notify: process }` (a handle, or a name: the process holding it now) the notice is sent to
   * that process as an event instead, and the monitor ends with that process, as a process's monitors end with it in
   * Elixir.
   * @throws {ValidationError} when `watcher` is neither a function nor `{ notify: process }`
   * @throws {NoProcError} when the process to notify is not alive: nothing could ever hear the notice
   * @returns a function that cancels the monitor, discarding a notice not yet delivered; its `monitor` is the id the
   *   notice carries in its own `monitor`, which tells a process holding several monitors which one fired
   */
  monitor(target: Target, watcher: MonitorTarget): Demonitor {
    assertWatcher(watcher);
    const owner = typeof watcher === 'function' ? undefined : this.#registry.resolve(watcher.notify);
    if (typeof watcher !== 'function' && !owner) throw new NoProcError(labelOf(watcher.notify));
    const process = this.#registry.resolve(target);
    const deliver = (notice: DownNotice): void => {
      // To the process that held the name when asked, as Elixir's monitor belongs to a pid: once it exited, the
      // notice is dropped, never handed to the next process to take the name.
      if (typeof watcher !== 'function') {
        if (owner) this.#deliver(owner, notice);
        return;
      }
      // A name nobody held (or no target at all) is still what the listener watched: told to onError as given.
      this.#faults.guard(process ?? (isRef(target) ? target : labelOf(target)), () => watcher(notice), 'monitor');
    };
    if (!process) return this.#monitors.noproc(idOf(target), nameOf(target), deliver).demonitor;
    return this.#monitors.add(process, deliver, owner).demonitor;
  }

  /**
   * Links `a` and `b`: when either exits with any reason but `'normal'`, the other is stopped with
   * `{ linked: <id>, reason }`, unless it traps exits (`spawn`'s `trapExit`): then it gets an `EXIT` event
   * (`ExitNotice`) for any exit, and lives on.
   * @throws {NoProcError} when either is not alive (Elixir's `link` fails with `noproc` too)
   * @returns a function that removes the link
   */
  link(a: Target, b: Target): () => void {
    const pa = this.#registry.resolve(a);
    const pb = this.#registry.resolve(b);
    if (!pa) throw new NoProcError(labelOf(a));
    if (!pb) throw new NoProcError(labelOf(b));
    this.#links.link(pa, pb);
    return () => this.#links.unlink(pa, pb);
  }

  /** Asks a process to exit; the first reason asked for wins, as with racing exit signals in Erlang. */
  #signal(process: Process, reason: ExitReason): void {
    process.stopReason ??= reason;
    // A hibernating process has no actor running: it exits as it is, without being woken for it. The inspector is
    // shown its stop now, which it was not shown when it went to sleep.
    if (process.hibernating) {
      const sleeper = this.#sleepers.get(process);
      const { asleepWith } = process;
      if (sleeper && asleepWith !== undefined) this.#showStopped(sleeper.resume, asleepWith, process);
      this.#exit(process, process.stopReason);
    } else process.actor.stop();
  }

  /**
   * The actor of a process, whose XState `id` is the process's name, or its pid when it has none: inspection tools
   * (Stately's among them) show an actor by its `id`, and XState sets `systemId` only after announcing the actor. A
   * {@link ProcessActor}: a user's observer must not make the process's crash an uncaught exception.
   */
  #createActor(logic: AnyActorLogic, id: string, systemId: string | undefined, start: object): AnyActor {
    return new ProcessActor(logic, {
      id,
      ...start,
      ...(systemId !== undefined ? { systemId } : {}),
      ...(this.#inspect ? { inspect: this.#inspect } : {}),
    });
  }

  /** Observes the process's current actor (its replies, its crash, its end) and starts it. */
  #run(process: Process): void {
    const { actor } = process;
    // Only an inspector's errors need attributing; 100,000 processes should not pay for it otherwise.
    if (this.#inspect) this.#faults.attribute(actor.system, process);
    actor.on(REPLY, (reply: EventObject) =>
      this.#faults.guard(process, () => this.#pending.settle(process, reply as ReplyEvent)),
    );
    // The error observer is what keeps XState from rethrowing the crash in a setTimeout. The three-function form,
    // not an observer object: measured at ~1.2 KB less per process, which 100,000 sessions notice.
    const subscription = actor.subscribe(
      undefined as never,
      (error: unknown) => {
        this.#inspectCrash(actor);
        this.#exitAfterChildren(process, { error });
      },
      () =>
        this.#exitAfterChildren(
          process,
          actor.getSnapshot().status === 'done' ? 'normal' : (process.stopReason ?? 'shutdown'),
        ),
    );
    const sleeper = this.#sleepers.get(process);
    if (sleeper) sleeper.subscription = subscription;
    // Saved and restored: a process may spawn another as it starts.
    const outer = this.#starting;
    this.#starting = actor;
    try {
      actor.start();
    } finally {
      this.#starting = outer;
    }
  }

  /**
   * Shows the inspector the snapshot a crash left (`status: 'error'`, the error in `error`): XState inspects no
   * snapshot when a transition throws, so the process's last one, `active`, would have stood for it for ever. At once,
   * ahead of anything its exit lets happen (a process started under its name, whose first snapshot would otherwise
   * come first); a microtask later for a crash while starting, which XState's snapshot of the start (still `active`)
   * follows, sent after the error observers are told.
   */
  #inspectCrash(actor: AnyActor): void {
    const inspect = this.#inspect;
    if (!inspect) return;
    const show = (): void =>
      inspect.next?.({
        type: '@xstate.snapshot',
        actorRef: actor,
        rootId: actor.sessionId,
        snapshot: actor.getSnapshot(),
        event: { type: 'xstate.error' },
      } as InspectionEvent);
    if (this.#starting === actor) queueMicrotask(show);
    else show();
  }

  /** A message is about to reach `process`: for one that may hibernate, that is activity. */
  #touch(process: Process): void {
    const sleeper = this.#sleepers.get(process);
    if (sleeper) this.#idle.touch(process, sleeper.afterMs);
  }

  /**
   * Restores a hibernating process into a new actor, from the snapshot it went to sleep with. For a process that
   * exited while hibernating, only makes an actor to read, stopped (see {@link ProcessRef.actor}).
   */
  #wake(process: Process): void {
    const last = process.asleepWith;
    const sleeper = this.#sleepers.get(process) ?? this.#retired.get(process);
    if (last === undefined || !sleeper) return;
    if (!process.alive) {
      const shown = new ProcessActor(sleeper.resume, { id: process.name ?? process.id, snapshot: last });
      shown.stop();
      return process.keepForReading(shown as never);
    }
    this.#idle.touch(process, sleeper.afterMs);
    process.wake(
      this.#createActor(sleeper.resume, process.name ?? process.id, sleeper.systemId, { snapshot: last }) as never,
    );
    this.#run(process);
  }

  /** Puts an idle process to sleep, unless it is not idle after all (then the idle clock asks again later). */
  #hibernate(process: Process): void {
    this.#faults.guard(process, () => {
      const sleeper = this.#sleepers.get(process);
      if (!sleeper || !process.alive || process.hibernating) return;
      const { actor } = process;
      const snapshot = actor.getSnapshot() as { status: string; children?: Record<string, AnyActor> };
      if (snapshot.status !== 'active' || this.#pending.awaiting(process) || hasWorkOrWatchers(actor, snapshot)) {
        // Busy now: checked again one hibernateAfter from now, not at every sweep.
        this.#idle.touch(process, sleeper.afterMs);
        return;
      }
      // Unobserved first: the stop below is a hibernation, not an exit.
      sleeper.subscription?.unsubscribe();
      sleeper.subscription = undefined;
      // It has no child actor (see `hasWorkOrWatchers`): nothing in the snapshot holds the old actor or its system.
      process.hibernate(snapshot as never);
      this.#idle.forget(process);
      // Stopped without the inspector told (the stop runs at once: the actor is idle), as a hibernating module's
      // actor is not shown stopped either: the process lives on, and its next actor starts when it wakes.
      this.#sleeping = actor;
      try {
        actor.stop();
      } finally {
        this.#sleeping = undefined;
      }
      // Whoever still holds the old actor (an action's promise via `self`, a caller's `ref.actor`, another actor's
      // `sendTo`) reaches the process: `send` and XState's relay between actors both end in `_send`.
      (actor as unknown as { _send(event: AnyEventObject): void })._send = (event) => this.cast(process, event);
    });
  }

  /**
   * Exits `process` once the children it is stopping have exited. A supervisor's teardown asks each child to stop,
   * and XState stops a child in the middle of a transition (one that stopped its own tree, say) only once that
   * transition is over: exited at once, the supervisor told its links and monitors it was gone, and settled `exited`,
   * with that child still alive and holding its name, so an owner starting the tree again from its `EXIT` found the
   * name taken. A child not asked to stop is not waited for: nothing would end that wait. A supervisor asks its
   * children in turn, the next once the one before has exited, and holds its exit until it has asked the last
   * ({@link holdExit}): its children not asked yet are waited for through that.
   */
  #exitAfterChildren(process: Process, reason: ExitReason): void {
    const held = this.#exitHolds.get(process);
    if (held) {
      this.#exitHolds.delete(process);
      const exit = (): void => this.#exitAfterChildren(process, reason);
      void held.then(exit, exit);
      return;
    }
    const children = this.#liveChildren.get(process);
    // Most processes supervise nothing: their exit builds no list.
    if (!children || children.size === 0) return this.#exit(process, reason);
    const stopping = [...children].filter((child) => child.stopReason !== undefined);
    if (stopping.length === 0) return this.#exit(process, reason);
    void Promise.all(stopping.map((child) => child.exited)).then(() => this.#exit(process, reason));
  }

  /** Runs inside XState's observer callbacks, so nothing may escape from here. */
  #exit(process: Process, reason: ExitReason): void {
    this.#faults.guard(process, () => {
      if (!process.markExited(reason)) return;
      const supervisor = this.#registry.resolve(this.#supervisors.get(process));
      if (supervisor) this.#liveChildren.get(supervisor)?.delete(process);
      const sleeper = this.#sleepers.get(process);
      // Kept while it may still have to show an actor restored from its last snapshot (weakly: it goes with the ref).
      if (sleeper && process.asleepWith !== undefined) this.#retired.set(process, sleeper);
      this.#sleepers.delete(process);
      this.#idle.forget(process);
      this.#registry.remove(process);
      this.#pending.failAll(process, reason);
      if (isCrash(reason)) this.#faults.report(reason.error, process);
      const passed = linkedExit(process.id, reason);
      for (const peer of this.#links.takeAll(process)) {
        if (this.#trapping.has(peer)) {
          const notice: ExitNotice = { type: 'EXIT', id: process.id, name: process.name, reason };
          this.#exitNotices.set(notice, peer);
          this.#exitSignals.push({ peer, notice });
        } else if (isAbnormal(reason) && !this.#spared?.(peer)) this.#exitSignals.push({ peer, reason: passed });
      }
      this.#monitors.down(process, reason);
    });
    this.#deliverExitSignals();
  }

  /**
   * Stops the processes that exit signals reach, one after another rather than one inside the other's exit: a chain
   * of links as long as it may be is no deeper a stack than one link (a recursion per link overflowed past a few
   * hundred, leaving the rest half stopped), and the process that exited is told to its monitors before those its
   * exit takes down, as its signal reaches them after it is gone in Erlang.
   */
  #deliverExitSignals(): void {
    if (this.#deliveringExitSignals) return;
    this.#deliveringExitSignals = true;
    let next = 0;
    try {
      // By index: a process linked to thousands queues thousands, and a shift each would be quadratic.
      for (; next < this.#exitSignals.length; next++) {
        const signal = this.#exitSignals[next]!;
        const { peer } = signal;
        // A notice goes as a cast would, waking a hibernating peer; dropped if the peer exited meanwhile.
        this.#faults.guard(peer, () =>
          'notice' in signal ? this.#deliver(peer, signal.notice) : this.#signal(peer, signal.reason),
        );
      }
    } finally {
      this.#exitSignals.splice(0, next);
      this.#deliveringExitSignals = false;
    }
  }
}
