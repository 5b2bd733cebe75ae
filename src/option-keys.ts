/**
 * The check that an option bag names only options its owner takes. A misspelled option read as absent is a
 * default applied without a word (`Runtime.start({ executionTimeout: 1000 })` waited two minutes, `call(p, e,
 * { timeoutMs: 50 })` five seconds), and a bag of the wrong kind is worse (`nats: 'nats://host:4222'` spread into
 * a connection's options as its characters, leaving nats.js to connect to its own default server). Tether refuses
 * both, as the Session API's and the supervisors' bags are refused (`src/session/options.ts`,
 * `src/runtime/supervisor-options.ts`).
 * @module
 */
import { ValidationError } from './errors.js';
import { messageOf } from './printable.js';
import { show } from './variables/failure.js';
import { isPlainObject } from './variables/json-value.js';

/**
 * The keys of option type `T`, every one of them and no other, as the compiler checks the record it is given:
 * a new option added to `T` and not here fails to compile, so the list cannot fall behind the type.
 * @example
 * const CALL_KEYS = optionKeys<CallOptions>({ timeout: true }); // ['timeout']
 */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * Throws `ValidationError` unless `bag` is an object (not an array) whose keys are all `accepted`, naming `owner`
 * and the unknown keys: `"<owner> got unknown option x; accepted: a, b"`, with `details: { unknown, accepted }`.
 * Keys whose value is `undefined` count, as a misspelled key usually holds a value.
 */
export function assertOptionKeys(bag: unknown, owner: string, accepted: readonly string[], noun = 'option'): void {
  assertOptionBag(bag, owner, noun);
  let unknown: string[] | undefined;
  for (const [key] of readOptions(bag, owner)) if (!accepted.includes(key)) (unknown ??= []).push(key);
  if (unknown === undefined) return;
  const what = unknown.length > 1 ? `${noun}s` : noun;
  throw new ValidationError(`${owner} got unknown ${what} ${unknown.join(', ')}; accepted: ${accepted.join(', ')}`, {
    details: { unknown, accepted: [...accepted] },
  });
}

/** Throws `ValidationError` unless `bag` is an object (not an array), one whose kind can be read. */
export function assertOptionBag(bag: unknown, owner: string, noun = 'option'): asserts bag is object {
  assertKindReadable(bag, `${owner} ${noun}s`);
  if (typeof bag !== 'object' || bag === null || Array.isArray(bag))
    throw new ValidationError(`${owner} options must be an object, got ${kindOfBag(bag)}`, {
      details: { got: kindOfBag(bag) },
    });
}

/**
 * The own enumerable options of `bag` as `[name, value]` pairs, each read here, so that a getter or proxy of the
 * caller's that throws is refused as the option (or other `noun`: an input, a field) it is, with {@link couldNotRead}
 * (about `variable`, when given), before anything is done. Callers read the bag again afterwards: a getter that answers
 * one thing here and another later is not guarded against.
 */
export function readOptions(bag: object, owner: string, noun = 'option', variable?: string): [string, unknown][] {
  const options: [string, unknown][] = [];
  let key: string | undefined;
  try {
    for (key of Object.keys(bag)) options.push([key, (bag as Record<string, unknown>)[key]]);
  } catch (error) {
    const what = key === undefined ? `${owner} ${noun}s` : `${owner} ${noun} '${key}'`;
    throw couldNotRead(what, error, key === undefined ? {} : { option: key }, variable);
  }
  return options;
}

/**
 * The refusal of an argument (`what`: "setVariable option 'updatedBy'") whose reading threw `error`, a getter's or a
 * proxy's of the caller's: `ValidationError`, `details.constraint: 'unreadable'`.
 */
export function couldNotRead(
  what: string,
  error: unknown,
  details: Readonly<Record<string, unknown>> = {},
  variable?: string,
): ValidationError {
  return new ValidationError(`${what} could not be read: ${messageOf(error)}`, {
    cause: error,
    ...(variable === undefined ? {} : { variable }),
    details: { ...details, constraint: 'unreadable' },
  });
}

/**
 * Throws {@link couldNotRead} for `what` when `value` is an object whose kind cannot be told: a revoked proxy, or a
 * proxy whose `getPrototypeOf` trap throws. The checks of kind that follow it (`Array.isArray`, a plain object's
 * prototype) would otherwise throw the engine's `TypeError` or the trap's own error, neither typed nor naming the
 * argument.
 */
export function assertKindReadable(
  value: unknown,
  what: string,
  details: Readonly<Record<string, unknown>> = {},
  variable?: string,
): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
  try {
    Array.isArray(value);
    Object.getPrototypeOf(value);
  } catch (error) {
    throw couldNotRead(what, error, details, variable);
  }
}

/**
 * Refuses `bag`, an object, unless it is a plain one (`{...}`, `Object.create(null)`): its keys are checked as own
 * keys, and one with a prototype of fields had those read in some places and not in others (an inherited
 * `expectedVersion` dropped, the write landing unconditionally; a spec's inherited bindings dropped without a word).
 * `what` names it in the message; `details` say where, besides `got`.
 */
export function assertOwnFields(bag: object, what: string, details: Readonly<Record<string, unknown>>): void {
  if (isPlainObject(bag)) return;
  throw new ValidationError(`${what} must be a plain object (its fields its own), got ${show(bag)}`, {
    details: { ...details, got: show(bag) },
  });
}

/** What a bag that is no object is, without its value: a string given for a bag may hold a URL with a password. */
export function kindOfBag(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Throws `ValidationError` naming `owner` and `option` unless the option, when given, is an XState inspector: a
 * function, or an observer whose `next` is one. Anything else would inspect nothing, silently, or throw at every
 * inspection event. `false` is no inspector, as `undefined` is (`inspect: debug && inspector`).
 */
export function assertInspectOption(owner: string, value: unknown): void {
  if (value === undefined || value === null || value === false || typeof value === 'function') return;
  if (typeof value === 'object' && typeof (value as { next?: unknown }).next === 'function') return;
  const got =
    typeof value === 'object' && !Array.isArray(value) ? 'an object without a next function' : kindOfBag(value);
  throw new ValidationError(
    `${owner} option 'inspect' must be a function or an observer with a next function, got ${got}`,
    { details: { option: 'inspect', got } },
  );
}

/**
 * Throws `ValidationError` naming `owner` and `option` unless the option, when given, is a function: a reporter or a
 * listener of another kind would only fail when first called, far from the call that gave it.
 */
export function assertFunctionOption(owner: string, option: string, value: unknown): void {
  // `null` is as absent, as the runtime reads it (`??`).
  if (value === undefined || value === null || typeof value === 'function') return;
  throw new ValidationError(`${owner} option '${option}' must be a function, got ${kindOfBag(value)}`, {
    details: { option, got: kindOfBag(value) },
  });
}

/**
 * Throws `ValidationError` naming `owner` and `option` unless the option, when given, is `true` or `false`: a truthy
 * string such as `'false'` would quietly switch on what it names.
 */
export function assertBooleanOption(owner: string, option: string, value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  throw new ValidationError(`${owner} option '${option}' must be true or false, got ${kindOfBag(value)}`, {
    details: { option, got: kindOfBag(value) },
  });
}
