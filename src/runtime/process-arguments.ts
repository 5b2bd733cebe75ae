/**
 * What the process runtime checks of its arguments before it touches any process, and how it names a target in
 * errors and notices. A bad argument is the caller's mistake: it is refused with a typed error naming it, rather
 * than reaching an actor, where XState would crash the receiving process (and fail everyone waiting on it).
 * @module
 */
import { NoProcError, ValidationError } from '../errors.js';
import { formatExitReason } from './exit-reason.js';
import { assertOptionKeys, readOptions } from '../option-keys.js';
import { CALL_KEYS, MAX_TIMEOUT_MS } from './process-runtime-options.js';
import type { ProcessRef } from './process.js';
import type { AnyEventObject } from 'xstate';
import { printable } from '../printable.js';

/**
 * Whether `value` is a process handle. By shape, as `#resolve` then checks it against the live processes: anything
 * else (`undefined` from a `whereis` that found nothing, a number) is a target no process answers to.
 */
export function isRef(value: unknown): value is ProcessRef {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return typeof (value as { id?: unknown }).id === 'string';
  } catch {
    // A proxy of the caller's that cannot be read (a revoked one): no process.
    return false;
  }
}

/** How a target is named in an error: its registered name, else its id; a value that is neither, as it prints. */
export function labelOf(target: unknown): string {
  if (typeof target === 'string') return target;
  return isRef(target) ? (target.name ?? target.id) : printable(target);
}

/**
 * The {@link NoProcError} for `target`, which no live process of the runtime answers to. A handle of a named process
 * that exited says so, with its pid: labelled by its name alone, it read "no process 'worker' is alive" while a
 * restarted worker held the name, and a caller that kept the old handle could not tell why.
 */
export function noProcOf(target: unknown): NoProcError {
  if (isActor(target)) {
    // An actor's id is its process's name or pid, so "no process 'counter' is alive" was said of a live process.
    const error = new NoProcError(labelOf(target));
    error.message =
      `'${labelOf(target)}' is an XState actor, not a process handle: pass the handle spawn returned ` +
      `or the process's name`;
    return error;
  }
  const exited = isRef(target) && target.name !== undefined ? target.exitReason : undefined;
  if (!isRef(target) || exited === undefined) return new NoProcError(labelOf(target));
  const error = new NoProcError(labelOf(target), { details: { processId: target.id } });
  error.message =
    `process '${target.name}' (${target.id}) exited (${formatExitReason(exited)}): ` +
    `a handle stands for that process alone, not for a later one under its name`;
  return error;
}

/**
 * Whether `value` is an XState actor (a process's `actor`, or `self` inside its machine) rather than a process handle:
 * it has the handle's `id` but answers to no process. Never throws.
 */
function isActor(value: unknown): boolean {
  try {
    const { send, sessionId } = value as { send?: unknown; sessionId?: unknown };
    return isRef(value) && typeof send === 'function' && typeof sessionId === 'string';
  } catch {
    return false;
  }
}

/** The registered name of a target, if it has one. */
export function nameOf(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  return isRef(target) ? target.name : undefined;
}

/** The process id of a target given as a handle. */
export function idOf(target: unknown): string | undefined {
  return isRef(target) ? target.id : undefined;
}

/**
 * Throws unless `watcher` is what a monitor can tell: a function, or `{ notify }` naming a process (a handle or a
 * registered name). Checked first, so a bad one leaves no monitor behind.
 */
export function assertWatcher(watcher: unknown): void {
  if (typeof watcher === 'function') return;
  const notify = typeof watcher === 'object' && watcher !== null ? (watcher as { notify?: unknown }).notify : undefined;
  if (typeof notify === 'string' || isRef(notify)) {
    // Anything else in it (a `flush`, as Elixir's demonitor takes) would be silently ignored.
    assertOptionKeys(watcher, 'monitor', ['notify']);
    return;
  }
  const got = typeof watcher === 'object' && watcher !== null ? `{ notify: ${shown(notify)} }` : shown(watcher);
  throw new ValidationError(`monitor needs a function or { notify: process } to tell, got ${got}`, {
    details: { got },
  });
}

/**
 * Why `event` cannot be sent by `operation`, or `undefined` when it can. XState reads `event.type` as a string
 * while processing, so anything else would crash the receiving process for the sender's mistake.
 */
export function eventProblem(event: unknown, operation: 'call' | 'cast'): ValidationError | undefined {
  if (typeof event === 'object' && event !== null) {
    // Sent as a copy of its fields, each read then: one that throws is the sender's mistake, refused here.
    try {
      readOptions(event, `${operation} event`, 'field');
    } catch (error) {
      return error as ValidationError;
    }
  }
  const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  if (typeof type === 'string') return undefined;
  const got =
    event === null || typeof event !== 'object'
      ? shown(event)
      : type === undefined
        ? 'an object without a type'
        : `an object with type ${shown(type)}`;
  return new ValidationError(`${operation} needs an event object with a string 'type', got ${got}`, {
    details: { operation, got },
  });
}

/**
 * Why `options` cannot be a call's options (anything but `timeout`, say `timeoutMs`, which was read as absent and
 * waited the default 5 s), or `undefined` when it can; `null` and `undefined` are no options.
 */
export function callOptionsProblem(options: unknown): ValidationError | undefined {
  if (options === undefined || options === null) return undefined;
  try {
    assertOptionKeys(options, 'call', CALL_KEYS);
    return undefined;
  } catch (error) {
    return error as ValidationError;
  }
}

/** Why `timeout` cannot be a call's timeout, or `undefined` when it can. A string is refused, not coerced. */
export function timeoutProblem(timeout: unknown): ValidationError | undefined {
  if (
    typeof timeout === 'number' &&
    timeout >= 1 &&
    (timeout <= MAX_TIMEOUT_MS || timeout === Number.POSITIVE_INFINITY)
  )
    return undefined;
  return new ValidationError(
    `call timeout must be between 1 and ${MAX_TIMEOUT_MS} ms, or Infinity; got ${shown(timeout)}`,
    // As text when JSON cannot carry it: NaN would travel as null.
    { details: { timeout: Number.isFinite(timeout) ? timeout : shown(timeout) } },
  );
}

/**
 * What is wrong with an exit `reason` given to `stop`, or `undefined`: a string, `{ error }`, `{ shutdown }` or
 * `{ linked, reason }`. Anything else would fail where the exit is told to monitors, links and waiting calls, with
 * the process already half gone.
 */
export function exitReasonProblem(reason: unknown, depth = 0): ValidationError | undefined {
  if (typeof reason === 'string') return undefined;
  if (typeof reason === 'object' && reason !== null && depth < 32) {
    const keys = Object.keys(reason);
    if (keys.length === 1 && (keys[0] === 'error' || keys[0] === 'shutdown')) return undefined;
    const { linked, reason: inner } = reason as { linked?: unknown; reason?: unknown };
    if (keys.length === 2 && typeof linked === 'string' && 'reason' in reason && !exitReasonProblem(inner, depth + 1))
      return undefined;
  }
  return new ValidationError(
    `an exit reason is a string, { error }, { shutdown } or { linked, reason }; got ${shown(reason)}`,
    { details: { field: 'reason' } },
  );
}

/** What stops every process, as the refusal of `stopProcess()` with no target names it for both kinds of runtime. */
export const EVERY_PROCESS_STOPPED_BY = "a ProcessRuntime's stopAll() or a Runtime's stop() stops every process";

/**
 * The refusal of a stop (`method`) called with no process at all: a runtime's own stop of everything (`everything`,
 * as the error names it) takes none, and the same call here would stop nothing, silently. `stop(undefined)` is no such
 * call: it is a process that is not alive, for `stop(whereis(name))` in cleanup code.
 */
export function missingStopTarget(method: string, everything: string): ValidationError {
  return new ValidationError(`${method} needs the process to stop (its ref, pid or name); ${everything}`, {
    details: { field: 'target' },
  });
}

/** Throws unless `name`, given to `spawn`, is a non-empty string: a name `whereis` and a `call` can find. */
export function assertProcessName(name: unknown): void {
  assertSpawnString('name', name);
}

/**
 * Throws unless `systemId`, given to `spawn`, is a non-empty string: XState keys its system's actors by it, and
 * anything else started a process whose actor no `system.get` could find.
 */
export function assertSystemId(systemId: unknown): void {
  assertSpawnString('systemId', systemId);
}

function assertSpawnString(option: 'name' | 'systemId', value: unknown): void {
  if (typeof value === 'string' && value !== '') return;
  throw new ValidationError(`spawn option '${option}' must be a non-empty string, got ${shown(value)}`, {
    details: { option, got: shown(value) },
  });
}

/**
 * Throws unless `logic` is XState actor logic (a machine, or `fromPromise`/`fromCallback`/... logic): anything else
 * would be started and crash on its first step, returning a process that never ran.
 */
export function assertLogic(logic: unknown): void {
  const candidate = logic as { transition?: unknown; getInitialSnapshot?: unknown } | null | undefined;
  const callable = (key: 'transition' | 'getInitialSnapshot'): boolean => typeof candidate?.[key] === 'function';
  if (
    (typeof logic === 'object' || typeof logic === 'function') &&
    callable('transition') &&
    callable('getInitialSnapshot')
  )
    return;
  throw new ValidationError(
    `spawn needs XState actor logic (a machine, or fromPromise/fromCallback logic), got ${shown(logic)}`,
    {
      details: { got: shown(logic) },
    },
  );
}

/** A value as a message shows it: strings quoted, so `'42'` and `42` read apart. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return printable(value);
}

/**
 * `event` as a process gets it from a `call` (with `callId`) or from a `cast` that carried one (`undefined`: taken
 * out), without changing the caller's object: a plain object with every field a cast of the event delivers. Its own
 * fields are copied; an event of a class of the caller's also has fields its prototypes give (getters, or fields
 * of a prototype object), which a copy of own fields would lose: they are read on the event itself (a getter may
 * read the class's private fields) and copied as values, so the object serializes whole. A field whose getter
 * throws is left out. `type` is the value the check read. Frozen: XState shows an inspector the very event the
 * process then reads, and one that renamed its `callId` for display would leave the caller waiting for a reply.
 */
export function withCallId(event: AnyEventObject, callId: string | undefined): AnyEventObject {
  const fields: Record<string, unknown> = { ...event };
  for (
    let prototype: object | null = Object.getPrototypeOf(event) as object | null;
    prototype !== null && prototype !== Object.prototype;
    prototype = Object.getPrototypeOf(prototype) as object | null
  ) {
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
      // Methods and the constructor are not fields; the nearest definition of a name wins.
      if (key in fields || key === 'constructor' || !(descriptor.get || descriptor.enumerable)) continue;
      try {
        fields[key] = (event as Record<string, unknown>)[key];
      } catch {
        // Left out, as a cast's process would have failed to read it.
      }
    }
  }
  fields.type = event.type;
  if (callId === undefined) delete fields.callId;
  else fields.callId = callId;
  return Object.freeze(fields) as AnyEventObject;
}
