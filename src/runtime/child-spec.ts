/**
 * Child specifications (OTP's child specs) and the one rule they carry: whether an exit means a restart.
 * @module
 */
import type { AnyActorLogic, InputFrom } from 'xstate';
import { ValidationError } from '../errors.js';
import { isFailure, type ExitReason } from './exit-reason.js';
import { assertOptionKeys, optionKeys } from './option-keys.js';
import type { ProcessHost } from './process-host.js';
import type { SpawnOptions } from './process-runtime.js';
import type { ProcessRef } from './process.js';

/**
 * When a child is restarted: `permanent` always, `transient` only after a failure (any reason but `'normal'`,
 * `'shutdown'` and `{ shutdown }`), `temporary` never (and it is forgotten once it exits).
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** What a child's `start` returns: the logic to spawn and how to spawn it. Called again on every restart. */
export interface ChildStart<TLogic extends AnyActorLogic = AnyActorLogic> {
  readonly logic: TLogic;
  readonly input?: InputFrom<TLogic>;
  /** Registered on every (re)start, so `whereis(name)` keeps finding the current incarnation. */
  readonly name?: string;
  readonly systemId?: string;
  /** See {@link SpawnOptions.hibernateAfter}: a hibernating child is alive, so its supervisor leaves it be. */
  readonly hibernateAfter?: number;
}

/** The keys a child's `start()` may return. */
const CHILD_START_KEYS = optionKeys<ChildStart>({
  logic: true,
  input: true,
  name: true,
  systemId: true,
  hibernateAfter: true,
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
  // As spawn refuses it: a misspelt `name` must not start an unnamed child that `whereis` never finds.
  assertOptionKeys(started, 'a child spec start()', CHILD_START_KEYS, 'key');
  const { logic, input, name, systemId, hibernateAfter } = started;
  const ref = runtime.spawn(logic, {
    ...(input !== undefined ? { input } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(systemId !== undefined ? { systemId } : {}),
    ...(hibernateAfter !== undefined ? { hibernateAfter } : {}),
  });
  const reason = ref.exitReason;
  if (reason !== undefined && typeof reason === 'object' && 'error' in reason) throw reason.error;
  return ref;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
