/**
 * The process runtime: Elixir process semantics (registry, call/cast, monitors, links, exit reasons, idle
 * hibernation) for any XState actor logic.
 * @module
 */
import type { Actor, AnyActorLogic, AnyEventObject, EventObject, Snapshot } from 'xstate';
import type { NoProcError } from '../errors.js';
import { REPLY, type ReplyEvent } from '../../machines/protocol.js';
import { isCrash, type ExitReason } from './exit-reason.js';
import { ExitSignals } from './exit-signals.js';
import { Links } from './links.js';
import { Monitors, type Demonitor, type DownNotice, type MonitorTarget } from './monitors.js';
import { PendingCalls } from './pending-calls.js';
import { ProcessActors } from './process-actors.js';
import { Process, type ProcessRef } from './process.js';
import { Registry } from './registry.js';
import { FaultReporter } from './fault-reporter.js';
import { assertHibernateAfter } from './hibernation.js';
import { Hibernator } from './hibernator.js';
import { Supervision } from './supervision.js';
import { assertBooleanOption, assertFunctionOption, assertInspectOption, assertOptionKeys } from '../option-keys.js';
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
  EVERY_PROCESS_STOPPED_BY,
  assertLogic,
  assertSystemId,
  assertWatcher,
  callOptionsProblem,
  exitReasonProblem,
  eventProblem,
  idOf,
  isRef,
  labelOf,
  missingStopTarget,
  nameOf,
  noProcOf,
  timeoutProblem,
  withCallId,
} from './process-arguments.js';

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
  readonly #exitSignals = new ExitSignals();
  readonly #supervision = new Supervision(this.#registry);
  /** Where crashes and errors thrown by listeners and the inspector go. */
  readonly #faults: FaultReporter;
  readonly #actors: ProcessActors;
  readonly #hibernator: Hibernator;
  #seq = 0;
  #callSeq = 0;
  #stopping = 0;

  constructor(options: ProcessRuntimeOptions = {}) {
    assertOptionKeys(options, 'ProcessRuntime', PROCESS_RUNTIME_KEYS);
    assertFunctionOption('ProcessRuntime', 'onError', options.onError);
    assertInspectOption('ProcessRuntime', options.inspect);
    this.#faults = new FaultReporter(options);
    this.#actors = new ProcessActors(this.#faults);
    this.#hibernator = new Hibernator({
      faults: this.#faults,
      pending: this.#pending,
      actors: this.#actors,
      run: (process) => this.#run(process),
      cast: (process, event) => this.cast(process, event),
    });
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
    const actor = this.#actors.create(logic, name ?? id, systemId, input !== undefined ? { input } : {});
    const wakeUp = hibernateAfter === undefined ? undefined : () => this.#hibernator.wake(process);
    const process: Process<TLogic> = new Process<TLogic>(id, name, actor as Actor<TLogic>, seq, wakeUp);
    this.#registry.add(process);
    if (trapExit) this.#exitSignals.trap(process);
    if (hibernateAfter !== undefined) this.#hibernator.add(process, logic, systemId, hibernateAfter);
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
    if (!process) return Promise.reject(noProcOf(target));
    const callId = `${process.id}#${++this.#callSeq}`;
    // Waiting before the wake: a woken actor that fails as it starts exits the process, failing this call.
    const reply = this.#pending.add(process, callId, labelOf(target), timeout);
    this.#hibernator.touch(process);
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
    this.#hibernator.touch(process);
    const { actor } = process;
    if (process.alive) actor.send(event);
  }

  /**
   * Stops the process with `reason` and settles once it has exited, as `GenServer.stop(pid, reason)` does: its
   * cleanup runs (a callback actor's, and that of each actor it invoked or spawned; XState v5 runs no exit actions on
   * a stop, a machine's own or its states') and it exits with `reason` exactly as given, `'kill'` included (there is no
   * untrappable `Process.exit(pid, :kill)`, nor its `killed`; see `ExitReason`), whether it traps exits or not; a
   * cleanup that throws makes the exit a crash (`{ error }`), as a `terminate/2` that raises does. Stopping a process
   * that is not alive does nothing, so cleanup code can stop unconditionally.
   * @throws {ValidationError} (rejects) when `reason` is no exit reason (see `ExitReason`), or no target is given
   * (`stopAll` stops every process); nothing is stopped
   */
  stop(target: Target, reason: ExitReason = 'shutdown'): Promise<void> {
    if (arguments.length === 0) return Promise.reject(missingStopTarget('stop', 'stopAll() stops every process'));
    const badReason = exitReasonProblem(reason);
    if (badReason) return Promise.reject(badReason);
    const process = this.#registry.resolve(target);
    if (!process) return Promise.resolve();
    this.#signal(process, reason);
    return process.exited.then(() => undefined);
  }

  /**
   * The same as {@link stop}, under the name `Runtime` has too (see `ProcessHost`), whose own calls it answers: refused
   * with no target, it names how either stops every process.
   */
  stopProcess(target: Target, reason: ExitReason = 'shutdown'): Promise<void> {
    if (arguments.length === 0) return Promise.reject(missingStopTarget('stopProcess', EVERY_PROCESS_STOPPED_BY));
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
    const roots = () => this.#supervision.unsupervised().filter(selected);
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
    return this.#actors.inspecting;
  }

  /**
   * Shows the inspector that a process let go asleep, to start another actor of the same name later (a module
   * hibernating: its machine ends in `hibernated`, status `done`; a process spawned with `hibernateAfter`), has ended
   * for good: an actor of that name, restored from `snapshot` (the let-go actor's persisted one), stopped as XState
   * shows a running actor's stop (`xstate.stop`, status `stopped`). Without it, its last snapshot would stand for ever.
   */
  inspectStopped(logic: AnyActorLogic, name: string, snapshot: Snapshot<unknown>): void {
    this.#actors.showStopped(logic, snapshot, name);
  }

  /** See {@link ProcessHost.reportFault}. */
  reportFault(error: unknown, process: ProcessRef, source: FaultSource): void {
    this.#faults.report(error, process, source);
  }

  /** See {@link ProcessHost.supervised}. */
  supervised(child: ProcessRef, supervisor: ProcessRef): void {
    this.#supervision.supervised(child, supervisor);
  }

  /** See {@link ProcessHost.holdExit}. */
  holdExit(process: ProcessRef, until: Promise<unknown>): void {
    this.#supervision.holdExit(process, until);
  }

  /**
   * See {@link ProcessHost.isExitNotice}. Known by the object itself, which the runtime hands to the process as it
   * made it: a copy, or the same notice passed on to another process, is not one.
   */
  isExitNotice(event: unknown, to: Target): boolean {
    return this.#exitSignals.isNotice(event, this.#registry.resolve(to));
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
    if (typeof watcher !== 'function' && !owner) throw noProcOf(watcher.notify);
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
    if (!pa) throw noProcOf(a);
    if (!pb) throw noProcOf(b);
    this.#links.link(pa, pb);
    return () => this.#links.unlink(pa, pb);
  }

  /** Asks a process to exit; the first reason asked for wins, as with racing exit signals in Erlang. */
  #signal(process: Process, reason: ExitReason): void {
    process.stopReason ??= reason;
    // A hibernating process has no actor running: it exits as it is, without being woken for it. The inspector is
    // shown its stop now, which it was not shown when it went to sleep.
    if (process.hibernating) {
      this.#hibernator.showStopped(process);
      this.#exit(process, process.stopReason);
    } else process.actor.stop();
  }

  /** Observes the process's current actor (its replies, its crash, its end) and starts it. */
  #run(process: Process): void {
    const { actor } = process;
    // Only an inspector's errors need attributing; 100,000 processes should not pay for it otherwise.
    if (this.#actors.inspecting) this.#faults.attribute(actor.system, process);
    actor.on(REPLY, (reply: EventObject) =>
      this.#faults.guard(process, () => this.#pending.settle(process, reply as ReplyEvent)),
    );
    // The error observer is what keeps XState from rethrowing the crash in a setTimeout. The three-function form,
    // not an observer object: measured at ~1.2 KB less per process, which 100,000 sessions notice.
    const subscription = actor.subscribe(
      undefined as never,
      (error: unknown) => {
        this.#actors.crashed(actor);
        this.#supervision.exitAfterChildren(process, () => this.#exit(process, { error }));
      },
      () => {
        const reason = actor.getSnapshot().status === 'done' ? 'normal' : (process.stopReason ?? 'shutdown');
        this.#supervision.exitAfterChildren(process, () => this.#exit(process, reason));
      },
    );
    this.#hibernator.observed(process, subscription);
    this.#actors.start(actor);
  }

  /** Runs inside XState's observer callbacks, so nothing may escape from here. */
  #exit(process: Process, reason: ExitReason): void {
    this.#faults.guard(process, () => {
      if (!process.markExited(reason)) return;
      this.#supervision.exited(process);
      this.#hibernator.exited(process);
      this.#registry.remove(process);
      this.#pending.failAll(process, reason);
      if (isCrash(reason)) this.#faults.report(reason.error, process);
      this.#exitSignals.queue(process, reason, this.#links.takeAll(process), this.#spared);
      this.#monitors.down(process, reason);
    });
    // A notice goes as a cast would, waking a hibernating peer; dropped if the peer exited meanwhile.
    this.#exitSignals.deliver((signal) =>
      this.#faults.guard(signal.peer, () =>
        'notice' in signal ? this.#deliver(signal.peer, signal.notice) : this.#signal(signal.peer, signal.reason),
      ),
    );
  }
}
