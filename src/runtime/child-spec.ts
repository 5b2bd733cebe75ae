/**
 * Child specifications (OTP's child specs) and the one rule they carry: whether an exit means a restart.
 * @module
 */
import type { AnyActorLogic, InputFrom } from 'xstate';
import { ValidationError } from '../errors.js';
import { isFailure, type ExitReason } from './exit-reason.js';
import { assertOptionKeys, optionKeys } from '../option-keys.js';
import { isRef, labelOf, noProcOf, shown } from './process-arguments.js';
import type { ProcessHost } from './process-host.js';
import type { SpawnOptions } from './process-runtime-options.js';
import type { ProcessRef } from './process.js';
import { isThenable } from './user-callback.js';

/**
 * When a child is restarted: `permanent` always, `transient` only after a failure (any reason but `'normal'`,
 * `'shutdown'` and `{ shutdown }`), `temporary` never (and it is forgotten once it exits).
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * What a child's `start` returns, called again on every restart: the logic to spawn and how to spawn it
 * ({@link ChildSpawn}), or a process it started itself ({@link ChildProcess}), such as a nested supervisor.
 */
export type ChildStart<TLogic extends AnyActorLogic = AnyActorLogic> = ChildSpawn<TLogic> | ChildProcess;

/** The logic a supervisor spawns for a child, and how. */
export interface ChildSpawn<TLogic extends AnyActorLogic = AnyActorLogic> {
  readonly logic: TLogic;
  readonly input?: InputFrom<TLogic>;
  /** Registered on every (re)start, so `whereis(name)` keeps finding the current incarnation. */
  readonly name?: string;
  readonly systemId?: string;
  /** See {@link SpawnOptions.hibernateAfter}: a hibernating child is alive, so its supervisor leaves it be. */
  readonly hibernateAfter?: number;
  /** See {@link SpawnOptions.trapExit}. */
  readonly trapExit?: boolean;
}

/**
 * A live process of the supervisor's runtime that `start` started itself, supervised as a spawned child is: a
 * nested `Supervisor`'s or `DynamicSupervisor`'s `ref` (a supervision tree), or a process your code spawned. Stopping
 * it (a restart, or the parent's own exit) stops a nested supervisor's children first, as its exit does. A process has
 * one supervisor: the supervisor itself, one above it, or a process a live supervisor supervises already is refused.
 * @example
 * let workers: DynamicSupervisor;
 * Supervisor.start(runtime, {
 *   children: [{ id: 'workers', start: () => ({ process: (workers = DynamicSupervisor.start(runtime, {})).ref }) }],
 * });
 */
export interface ChildProcess {
  readonly process: ProcessRef;
}

/** The keys a child's `start()` may return. */
const CHILD_START_KEYS = optionKeys<ChildSpawn>({
  logic: true,
  input: true,
  name: true,
  systemId: true,
  hibernateAfter: true,
  trapExit: true,
});

/** How a supervisor starts and restarts one child. */
export interface ChildSpec {
  /** Unique among the supervisor's children; how `which` and `child` find it. */
  readonly id: string;
  readonly start: () => ChildStart;
  /** @default 'permanent' */
  readonly restart?: RestartType;
}

/** Whether a child with this restart type is restarted after exiting with `reason`. */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return isFailure(reason);
  return false;
}

/**
 * Spawns the child `start` describes. Throws what `start` or `spawn` throws, and the crash error when the
 * logic crashed while starting, so a supervisor treats all three as a failed start.
 */
export function spawnChild(runtime: ProcessHost, start: () => ChildStart): ProcessRef {
  const started = start();
  if (isThenable(started)) {
    // Typed out, but JS callers and casts get through. Whatever it rejects with was the start's failure, told below;
    // left unhandled, it would end a Node 20 process.
    started.then(undefined, () => {});
    throw new ValidationError(
      "a child spec's start() must return { logic, ... } synchronously, got a Promise (is it an async function?)",
      { details: { field: 'start', got: 'a Promise' } },
    );
  }
  // A block-bodied arrow that forgot its `return` gives undefined; checked as options, it read "start() options must
  // be an object", naming options nobody gave.
  if (typeof started !== 'object' || started === null || Array.isArray(started))
    throw new ValidationError(
      `a child spec's start() must return { logic, ... } or { process }, got ${shown(started)}`,
      { details: { field: 'start', got: shown(started) } },
    );
  if ('process' in started) return adopted(runtime, started);
  // As spawn refuses it: a misspelt `name` must not start an unnamed child that `whereis` never finds.
  assertOptionKeys(started, 'a child spec start()', CHILD_START_KEYS, 'key');
  const { logic, input, name, systemId, hibernateAfter, trapExit } = started;
  const ref = runtime.spawn(logic, {
    ...(input !== undefined ? { input } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(systemId !== undefined ? { systemId } : {}),
    ...(hibernateAfter !== undefined ? { hibernateAfter } : {}),
    ...(trapExit !== undefined ? { trapExit } : {}),
  });
  const reason = ref.exitReason;
  if (reason !== undefined && typeof reason === 'object' && 'error' in reason) throw reason.error;
  return ref;
}

/**
 * The process a child's `start()` started itself, once it is known to be a live process of `runtime`: one of another
 * runtime could never be watched, and one already gone is a failed start (its crash's error when it crashed).
 */
function adopted(runtime: ProcessHost, started: ChildProcess): ProcessRef {
  const { process } = started;
  const refused = (error: Error): never => {
    // What start() did start (the supervisor itself given rather than its ref, say) would run on with nothing to stop
    // it, holding its name, so that the next start failed as `already_exists`.
    const orphan = isRef(process) ? process : refOf(process);
    if (orphan !== undefined && runtime.isAlive(orphan)) void runtime.stopProcess(orphan, 'shutdown').catch(() => {});
    throw error;
  };
  try {
    assertOptionKeys(started, 'a child spec start()', PROCESS_START_KEYS, 'key');
  } catch (error) {
    return refused(error as Error);
  }
  if (!isRef(process)) {
    const hint = refOf(process) === undefined ? '' : ' (a supervisor? give its ref)';
    return refused(
      new ValidationError(
        `a child spec start()'s process must be a process handle (a spawn's, or a supervisor's ref), got ` +
          `${shown(process)}${hint}`,
        { details: { field: 'process', got: shown(process) } },
      ),
    );
  }
  if (runtime.isAlive(process)) return process;
  const reason = process.exitReason;
  if (reason !== undefined && typeof reason === 'object' && 'error' in reason) throw reason.error;
  const error = noProcOf(process);
  if (process.alive) error.message = `process '${labelOf(process)}' is not a process of this supervisor's runtime`;
  throw error;
}

/** The `ref` of what may be a supervisor, when it has one that is a process handle; never throws. */
function refOf(value: unknown): ProcessRef | undefined {
  try {
    const ref = (value as { ref?: unknown } | null | undefined)?.ref;
    return isRef(ref) ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** The keys a child's `start()` returning a process may have. */
const PROCESS_START_KEYS = optionKeys<ChildProcess>({ process: true });
