/**
 * What the process runtime's methods take: the runtime's own options, a spawn's and a call's, the longest timeout
 * Node can count, and a target (a process or its registered name). Apart from {@link ProcessRuntime} so its helpers
 * (hibernation, fault reporting, argument checks) can read them without importing it.
 * @module
 */
import type { AnyActorLogic, InputFrom, InspectionEvent, Observer } from 'xstate';
import { optionKeys } from '../option-keys.js';
import type { ProcessRef } from './process.js';

/** Options for {@link ProcessRuntime}. */
export interface ProcessRuntimeOptions {
  /** Passed to every `createActor`, so a tool sees every transition of every process live. */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Told about every crash, after the process is gone. Also receives errors thrown by your own monitor
   * listeners and inspector, attributed to the process they concerned, since those must not escape either: the
   * inspector's with `source` `'inspector'`, and only its first for each process (it would otherwise be told at
   * every transition of it); a monitor listener's with `source` `'monitor'`, `process` being the target as it was
   * given, a string (its name, or the value as it prints), when that was no process at all (a `'noproc'` notice); a
   * supervisor's failed restart of a child (its `start()` threw, or spawn refused what it returned) as a
   * `ChildStartError` with the supervisor's process and `source` `'restart'`, at every attempt, as OTP reports each;
   * and a supervisor giving up past its restart intensity, which then exits with `'shutdown'`, as a
   * `MaxRestartIntensityError` (`reached_max_restart_intensity`) with its process and `source` `'restart'`, as OTP's
   * supervisor report says it.
   * @default logs with `console.error`
   */
  readonly onError?: (error: unknown, process: ProcessRef | string, source?: FaultSource) => void;
}

/** The keys {@link ProcessRuntimeOptions} takes; any other is refused. */
export const PROCESS_RUNTIME_KEYS = optionKeys<ProcessRuntimeOptions>({ inspect: true, onError: true });

/**
 * What threw an error `onError` is told of, when it is not the process: your inspector, a monitor listener, or a
 * supervisor's restart work (a child's start that it called, or its giving up past its restart intensity).
 */
export type FaultSource = 'inspector' | 'monitor' | 'restart';

/** Options for {@link ProcessRuntime.spawn}. */
export interface SpawnOptions<TLogic extends AnyActorLogic = AnyActorLogic> {
  /** A name to register, a non-empty string; `whereis(name)` finds the process while it lives. */
  readonly name?: string;
  readonly input?: InputFrom<TLogic>;
  /**
   * XState `systemId` of the root actor; each process is its own actor system, so it is scoped to it. A runtime's
   * session and module processes have their process name as theirs. An inspector shows a process by its actor's
   * `id`, which is its `name`, or its pid (`<0.7>`) when it has none.
   */
  readonly systemId?: string;
  /**
   * Milliseconds without a `call` or `cast` after which the process hibernates (Erlang's `hibernate_after`):
   * its actor is stopped and dropped, only its last snapshot is kept (context and all, as it is), until the next
   * `call` or `cast` (or a read of `ref.actor`) restores it into a new actor, without entry actions. It stays
   * alive and registered meanwhile; its monitors, links and supervisor see nothing, and an event sent later to
   * the old actor (say by a promise an action started) is passed on to the process, waking it.
   *
   * Not idle, so asked again one `hibernateAfter` later: a process a caller waits on, one with a child actor in its
   * snapshot (running, or finished and not yet stopped with `stopChild`: a restored snapshot could not carry it, and
   * its output and the events sent to it must stay as they were), one with a pending delayed event, and one observed
   * through `ref.actor` (`subscribe`, `on`, `waitFor`), whose observers a stop would complete. An inspector is shown
   * no stop as it goes to sleep, and a new actor of its name when it wakes (a stop only when it ends for good while
   * asleep). State machines only (other logic cannot be restored without running its work again); up to
   * {@link MAX_TIMEOUT_MS}. The moment it hibernates may come up to a quarter of this late (5 ms at least, 1 s at
   * most: an idle sweep's period).
   */
  readonly hibernateAfter?: number;
  /**
   * Traps exits (Elixir's `Process.flag(:trap_exit, true)`): the exit of a linked process does not stop this one,
   * which gets an `EXIT` event instead (`ExitNotice`), for any exit reason, `'normal'` included. A `stop` still
   * stops it.
   * @default false
   */
  readonly trapExit?: boolean;
}

/** The keys {@link SpawnOptions} takes; any other is refused. */
export const SPAWN_KEYS = optionKeys<SpawnOptions>({
  name: true,
  input: true,
  systemId: true,
  hibernateAfter: true,
  trapExit: true,
});

/**
 * The longest finite wait Tether takes (a call's `timeout`, a process's `hibernateAfter`, a provider's `timeoutMs`):
 * Node's timers cannot count further (2^31 - 1 ms, about 24.8 days).
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Options for {@link ProcessRuntime.call}. */
export interface CallOptions {
  /** Milliseconds, up to {@link MAX_TIMEOUT_MS}, or `Infinity` to wait for ever. @default 5000 */
  readonly timeout?: number;
}

/** The keys {@link CallOptions} takes; any other is refused. */
export const CALL_KEYS = optionKeys<CallOptions>({ timeout: true });

/** A process handle, or the name it is registered under. */
export type Target = ProcessRef | string;
