/**
 * The check of what a supervisor is given: its options and its child specs. A misspelled key, strategy or restart
 * type is refused with a `ValidationError` naming it, before anything starts: accepted silently, `restart:
 * 'permanant'` meant a child never restarted and `strategy: 'one_for_al'` behaved as `rest_for_one`.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertOptionKeys } from '../option-keys.js';
import { shown } from './process-arguments.js';

/** The strategies `Supervisor` knows (see `SupervisorStrategy`). */
export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
/** The restart types a child spec may name (see `RestartType`). */
export const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;

const INTENSITY_KEYS = ['name', 'maxRestarts', 'maxSeconds'];
const SUPERVISOR_KEYS = [...INTENSITY_KEYS, 'children', 'strategy'];
const DYNAMIC_SUPERVISOR_KEYS = [...INTENSITY_KEYS, 'maxChildren'];
const CHILD_SPEC_KEYS = ['id', 'start', 'restart'];
const DYNAMIC_CHILD_SPEC_KEYS = ['start', 'restart'];

/** The error for an option of the wrong kind, naming the option and the value. */
export function invalidOption(owner: string, option: string, expected: string, value: unknown): ValidationError {
  const got = shown(value);
  return new ValidationError(`${owner} option '${option}' must be ${expected}; got ${got}`, {
    details: { option, expected, got },
  });
}

/** Throws unless `options` suits `Supervisor.start`: known keys, a known strategy, well-formed child specs. */
export function assertSupervisorOptions(options: unknown): void {
  const bag = assertBag(options, 'Supervisor.start', 'option', SUPERVISOR_KEYS);
  if (bag.strategy !== undefined) assertOneOf('supervisor', 'strategy', STRATEGIES, bag.strategy);
  if (!Array.isArray(bag.children))
    throw invalidOption('supervisor', 'children', 'an array of child specs', bag.children);
  for (const spec of bag.children) assertChildSpec(spec);
}

/** Throws unless `options` suits `DynamicSupervisor.start`: known keys, `maxChildren` a whole number ≥ 0. */
export function assertDynamicSupervisorOptions(options: unknown): void {
  const { maxChildren } = assertBag(options, 'DynamicSupervisor.start', 'option', DYNAMIC_SUPERVISOR_KEYS);
  if (maxChildren === undefined || maxChildren === Number.POSITIVE_INFINITY) return;
  if (!(typeof maxChildren === 'number' && Number.isSafeInteger(maxChildren) && maxChildren >= 0))
    throw invalidOption('supervisor', 'maxChildren', 'a whole number ≥ 0, or Infinity', maxChildren);
}

/** Throws unless `spec` is a child spec of `Supervisor`: a string `id`, a `start` function, a known restart type. */
export function assertChildSpec(spec: unknown): void {
  const id = typeof spec === 'object' && spec !== null ? (spec as { id?: unknown }).id : undefined;
  const owner = typeof id === 'string' ? `child spec '${id}'` : 'child spec';
  const bag = assertBag(spec, owner, 'key', CHILD_SPEC_KEYS);
  if (typeof bag.id !== 'string' || bag.id === '') throw invalidOption(owner, 'id', 'a non-empty string', bag.id);
  assertStartAndRestart(owner, bag);
}

/** Throws unless `spec` is a child spec of `DynamicSupervisor.startChild`: a `start` function, a known restart type. */
export function assertDynamicChildSpec(spec: unknown): void {
  assertStartAndRestart('dynamic child spec', assertBag(spec, 'dynamic child spec', 'key', DYNAMIC_CHILD_SPEC_KEYS));
}

function assertStartAndRestart(owner: string, bag: Record<string, unknown>): void {
  if (typeof bag.start !== 'function') throw invalidOption(owner, 'start', 'a function', bag.start);
  if (bag.restart !== undefined) assertOneOf(owner, 'restart', RESTART_TYPES, bag.restart);
}

/** Checks that `value` is an object with no key but `accepted` ones, and returns it. */
function assertBag(value: unknown, owner: string, noun: string, accepted: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(`${owner} needs an object, got ${shown(value)}`, { details: { got: shown(value) } });
  assertOptionKeys(value, owner, accepted, noun);
  return value as Record<string, unknown>;
}

function assertOneOf(owner: string, option: string, allowed: readonly string[], value: unknown): void {
  if (typeof value === 'string' && allowed.includes(value)) return;
  throw invalidOption(owner, option, `one of ${allowed.map((name) => `'${name}'`).join(', ')}`, value);
}
