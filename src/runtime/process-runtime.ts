/**
 * The process runtime: Elixir process semantics (registry, call/cast, monitors, links, exit reasons) for any
 * XState actor logic.
 * @module
 */
import {
  createActor,
  type Actor,
  type AnyActor,
  type AnyActorLogic,
  type AnyEventObject,
  type EventObject,
  type InputFrom,
  type InspectionEvent,
  type Observer,
} from 'xstate';
import { NoProcError, ValidationError } from '../errors.js';
import { REPLY, type ReplyEvent } from '../../machines/protocol.js';
import { isAbnormal, isCrash, type ExitReason } from './exit-reason.js';
import { Links } from './links.js';
import { Monitors, type Demonitor, type DownNotice, type MonitorTarget } from './monitors.js';
import { PendingCalls } from './pending-calls.js';
import { Process, type ProcessRef } from './process.js';
import { Registry } from './registry.js';

/** Options for {@link ProcessRuntime}. */
export interface ProcessRuntimeOptions {
  /** Passed to every `createActor`, so a tool sees every transition of every process live. */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Told about every crash, after the process is gone. Also receives errors thrown by your own monitor
   * listeners and inspector, attributed to the process they concerned, since those must not escape either.
   * @default logs with `console.error`
   */
  readonly onError?: (error: unknown, process: ProcessRef) => void;
}

/** Options for {@link ProcessRuntime.spawn}. */
export interface SpawnOptions<TLogic extends AnyActorLogic = AnyActorLogic> {
  /** A name to register; `whereis(name)` finds the process while it lives. */
  readonly name?: string;
  readonly input?: InputFrom<TLogic>;
  /** XState `systemId` of the root actor; each process is its own actor system, so it is scoped to it. */
  readonly systemId?: string;
}

/** The longest finite call timeout: Node's timers cannot count further (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Options for {@link ProcessRuntime.call}. */
export interface CallOptions {
  /** Milliseconds, up to {@link MAX_TIMEOUT_MS}, or `Infinity` to wait for ever. @default 5000 */
  readonly timeout?: number;
}

/** A process handle, or the name it is registered under. */
export type Target = ProcessRef | string;

/**
 * Runs XState actors as Elixir-style processes. Each process is a root actor (never a child of one XState
 * parent, where spawning is quadratic), observed so that no crash ever reaches Node's uncaught-exception path.
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
  /** Live processes by id; a Map keeps spawn order, which `stopAll` walks backwards. */
  readonly #live = new Map<string, Process>();
  /** Which process an XState system belongs to, so inspector errors can be attributed. */
  readonly #bySystem = new WeakMap<object, Process>();
  readonly #inspect: Observer<InspectionEvent> | undefined;
  readonly #onError: (error: unknown, process: ProcessRef) => void;
  #seq = 0;
  #callSeq = 0;
  #stopping = 0;

  constructor(options: ProcessRuntimeOptions = {}) {
    this.#onError =
      options.onError ?? ((error, process) => console.error(`[tether] process ${process} crashed:`, error));
    const { inspect } = options;
    if (inspect) {
      const observer = typeof inspect === 'function' ? { next: inspect } : inspect;
      // XState calls inspectors without a guard, inside the actor's own processing; a throwing tool must not
      // crash the process it watches.
      this.#inspect = {
        next: (event) => {
          try {
            observer.next?.(event);
          } catch (error) {
            // Inspection types actorRef narrowly; at runtime it is the actor, which knows its system.
            const { system } = event.actorRef as { system?: object };
            this.#report(error, system ? this.#bySystem.get(system) : undefined);
          }
        },
      };
    }
  }

  /**
   * Starts `logic` as a new root actor. A process whose logic fails or finishes while starting is returned
   * already exited (check `alive`), as `spawn` in Elixir does not fail for what the process does.
   * @throws {AlreadyExistsError} when `name` is held by a live process
   */
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options: SpawnOptions<TLogic> = {}): ProcessRef<TLogic> {
    const { name, input, systemId } = options;
    if (name !== undefined) this.#registry.assertFree(name);
    const seq = ++this.#seq;
    const id = `<0.${seq}>`;
    const actor: AnyActor = createActor(logic as AnyActorLogic, {
      id,
      ...(input !== undefined ? { input } : {}),
      ...(systemId !== undefined ? { systemId } : {}),
      ...(this.#inspect ? { inspect: this.#inspect } : {}),
    });
    const process = new Process<TLogic>(id, name, actor as Actor<TLogic>, seq);
    // Only an inspector's errors need attributing; 100,000 processes should not pay for it otherwise.
    if (this.#inspect) this.#bySystem.set(actor.system, process);
    if (name !== undefined) this.#registry.register(name, process);
    this.#live.set(id, process);
    actor.on(REPLY, (reply: EventObject) =>
      this.#guard(process, () => this.#pending.settle(process, reply as ReplyEvent)),
    );
    // The error observer is what keeps XState from rethrowing the crash in a setTimeout. The three-function form,
    // not an observer object: measured at ~1.2 KB less per process, which 100,000 sessions notice.
    actor.subscribe(
      undefined as never,
      (error: unknown) => this.#exit(process, { error }),
      () => this.#exit(process, actor.getSnapshot().status === 'done' ? 'normal' : (process.stopReason ?? 'shutdown')),
    );
    actor.start();
    return process;
  }

  /** The live process registered under `name`. */
  whereis(name: string): ProcessRef | undefined {
    return this.#registry.get(name);
  }

  /** Every live process, in spawn order. */
  processes(): ProcessRef[] {
    return [...this.#live.values()];
  }

  /** True while {@link ProcessRuntime.stopAll} runs; supervisors do not restart children meanwhile. */
  get stopping(): boolean {
    return this.#stopping > 0;
  }

  /**
   * GenServer.call: delivers `event` with a fresh `callId` and waits for the `tether.reply` the process emits.
   * Declare `callId?` in the machine's events (e.g. with `CallEnvelope`) to read it there.
   * @throws {NoProcError} (rejects at once) when the target is not alive
   * @throws {CallTimeoutError} when no reply comes within `timeout`; a later reply is dropped
   * @throws {ProcessExitedError} when the target exits first; `cause` is the crash error, if it crashed
   * @throws the typed error rebuilt from an `ok: false` reply
   */
  call(target: Target, event: AnyEventObject, { timeout = 5000 }: CallOptions = {}): Promise<unknown> {
    if (!(timeout > 0 && (timeout <= MAX_TIMEOUT_MS || timeout === Number.POSITIVE_INFINITY))) {
      return Promise.reject(
        new ValidationError(`call timeout must be between 1 and ${MAX_TIMEOUT_MS} ms, or Infinity; got ${timeout}`, {
          details: { timeout },
        }),
      );
    }
    const process = this.#resolve(target);
    if (!process) return Promise.reject(new NoProcError(labelOf(target)));
    const callId = `${process.id}#${++this.#callSeq}`;
    const reply = this.#pending.add(process, callId, labelOf(target), timeout);
    process.actor.send({ ...event, callId });
    return reply;
  }

  /** Fire and forget. To a target that is not alive the event is dropped, as in Elixir. */
  cast(target: Target, event: AnyEventObject): void {
    this.#resolve(target)?.actor.send(event);
  }

  /**
   * Stops the process with `reason` and settles once it has exited. Stopping a process that is not alive
   * does nothing, so cleanup code can stop unconditionally.
   */
  stop(target: Target, reason: ExitReason = 'shutdown'): Promise<void> {
    const process = this.#resolve(target);
    if (!process) return Promise.resolve();
    this.#signal(process, reason);
    return process.exited.then(() => undefined);
  }

  /** Stops every process, newest first, waiting for each to exit; also those spawned meanwhile. */
  async stopAll(reason: ExitReason = 'shutdown'): Promise<void> {
    this.#stopping++;
    try {
      for (let last = lastOf(this.#live); last; last = lastOf(this.#live)) await this.stop(last, reason);
    } finally {
      this.#stopping--;
    }
  }

  /**
   * Monitors `target`: one {@link DownNotice} when it exits, or a `'noproc'` notice (asynchronously) when it
   * is not alive. With `{ notify: process }` the notice is sent to that process as an event instead.
   * @returns a function that cancels the monitor, discarding a notice not yet delivered
   */
  monitor(target: Target, watcher: MonitorTarget): Demonitor {
    const process = this.#resolve(target);
    const owner = typeof watcher === 'function' ? undefined : this.#resolve(watcher.notify);
    const deliver = (notice: DownNotice): void => {
      if (typeof watcher !== 'function') return this.cast(watcher.notify, notice);
      const concerned = process ?? (typeof target === 'string' ? undefined : target);
      if (concerned) this.#guard(concerned, () => watcher(notice));
      else this.#guardUnattributed(() => watcher(notice));
    };
    if (!process)
      return this.#monitors.noproc(typeof target === 'string' ? undefined : target.id, nameOf(target), deliver)
        .demonitor;
    return this.#monitors.add(process, deliver, owner).demonitor;
  }

  /**
   * Links `a` and `b`: when either exits with any reason but `'normal'`, the other is stopped with
   * `{ linked: <id>, reason }`.
   * @throws {NoProcError} when either is not alive (Elixir's `link` fails with `noproc` too)
   * @returns a function that removes the link
   */
  link(a: Target, b: Target): () => void {
    const pa = this.#resolve(a);
    const pb = this.#resolve(b);
    if (!pa) throw new NoProcError(labelOf(a));
    if (!pb) throw new NoProcError(labelOf(b));
    this.#links.link(pa, pb);
    return () => this.#links.unlink(pa, pb);
  }

  #resolve(target: Target): Process | undefined {
    if (typeof target === 'string') return this.#registry.get(target);
    const process = this.#live.get(target.id);
    return process === target ? process : undefined;
  }

  /** Asks a process to exit; the first reason asked for wins, as with racing exit signals in Erlang. */
  #signal(process: Process, reason: ExitReason): void {
    process.stopReason ??= reason;
    process.actor.stop();
  }

  /** Runs inside XState's observer callbacks, so nothing may escape from here. */
  #exit(process: Process, reason: ExitReason): void {
    this.#guard(process, () => {
      if (!process.markExited(reason)) return;
      this.#registry.unregister(process);
      this.#live.delete(process.id);
      this.#pending.failAll(process, reason);
      if (isCrash(reason)) this.#report(reason.error, process);
      for (const peer of this.#links.takeAll(process)) {
        if (isAbnormal(reason)) this.#guard(peer, () => this.#signal(peer, { linked: process.id, reason }));
      }
      this.#monitors.down(process, reason);
    });
  }

  #guard(process: Process | ProcessRef, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#report(error, process);
    }
  }

  #guardUnattributed(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      console.error('[tether] a monitor listener threw:', error);
    }
  }

  #report(error: unknown, process: ProcessRef | undefined): void {
    if (!process) return console.error('[tether] an inspector threw:', error);
    try {
      this.#onError(error, process);
    } catch (reportError) {
      // The reporter itself failed; logging is all that is left that cannot throw into XState.
      console.error('[tether] onError threw while reporting', error, reportError);
    }
  }
}

function labelOf(target: Target): string {
  return typeof target === 'string' ? target : (target.name ?? target.id);
}

function nameOf(target: Target): string | undefined {
  return typeof target === 'string' ? target : target.name;
}

function lastOf<V>(map: Map<string, V>): V | undefined {
  let last: V | undefined;
  for (const value of map.values()) last = value;
  return last;
}
