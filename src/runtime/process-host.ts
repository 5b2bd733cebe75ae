/**
 * What a supervisor runs its children on: a `ProcessRuntime`, or a `Runtime` (a node), which keeps its process
 * runtime to itself. Both stop one process with `stopProcess`; a Runtime's own `stop()` stops everything, so a
 * supervisor must never be handed a method of that name.
 * @module
 */
import type { ExitReason } from './exit-reason.js';
import type { FaultSource } from './process-runtime-options.js';
import type { Demonitor, MonitorTarget } from './monitors.js';
import type { SpawnOptions, Target } from './process-runtime-options.js';
import type { ProcessRef } from './process.js';
import type { AnyActorLogic } from 'xstate';

/** The process operations a supervisor needs; `ProcessRuntime` and `Runtime` both have them. */
export interface ProcessHost {
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options?: SpawnOptions<TLogic>): ProcessRef<TLogic>;
  /** Stops one process with `reason` and settles once it has exited. */
  stopProcess(target: Target, reason?: ExitReason): Promise<void>;
  monitor(target: Target, watcher: MonitorTarget): Demonitor;
  /** Whether `target` is a live process of this host: a child started elsewhere could never be watched. */
  isAlive(target: Target): boolean;
  /** True while the host stops everything: exits seen then are the shutdown, not failures to restart. */
  readonly stopping: boolean;
  /**
   * Notes that `supervisor` supervises `child`: stopping everything then stops the child through its supervisor, in
   * the supervisor's order, rather than by when it was spawned. A host without it stops by spawn order alone.
   * @throws {ValidationError} when `child` is `supervisor` or a supervisor above it, or a live supervisor supervises it
   *   already: the supervisor then refuses that start
   */
  supervised?(child: ProcessRef, supervisor: ProcessRef): void;
  /**
   * Holds the exit of `process` (its `exited`, its monitors' and links' notices) until `until` settles: a supervisor
   * stops its children one after another as it goes, and is gone only once the last of them is. A host without it
   * lets the supervisor exit while its older children are still being stopped.
   */
  holdExit?(process: ProcessRef, until: Promise<unknown>): void;
  /**
   * Whether `event` is an EXIT notice the host delivered to `to` because a process linked to it exited: not an event
   * of that shape someone cast to it, nor a notice another process got and passed on. A supervisor heeds only those.
   * A host without it has every EXIT-shaped event taken for one.
   */
  isExitNotice?(event: unknown, to: Target): boolean;
  /**
   * Tells the host's `onError` of `error`, which `source` threw for `process`: a supervisor reports its failed
   * restarts so. A host without it has them logged.
   */
  reportFault?(error: unknown, process: ProcessRef, source: FaultSource): void;
}
