/**
 * Checking that something is a JSON value and making the frozen copy a session stores. Stored values travel
 * through JetStream as JSON, so anything JSON would silently change (an `undefined` dropped, a `Date` turned
 * into a string, `NaN` turned into `null`) is refused here instead of surprising another node later.
 * @module
 */
import { messageOf, withArticle } from '../printable.js';
import { freezeDate } from './frozen-date.js';
import type { JsonValue } from './types.js';

/** What {@link freezeJson} holds as its reporter's refusal until it has one. */
const NOTHING_REPORTED = Symbol('nothing reported');

/** Receives where the first non-JSON part is (`$.a[2]`) and what it is; must throw. */
export type JsonProblemReporter = (path: string, problem: string) => never;

/**
 * How deep a value may nest. Copying recurses, and a value nested thousands of levels would overflow the stack
 * with a `RangeError` instead of a `ValidationError`; no real configuration nests this deep.
 */
export const MAX_JSON_DEPTH = 256;

/** True for `{...}` literals and `Object.create(null)`: the only objects JSON round-trips unchanged. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * A path as a message shows it: whole up to 100 characters, else its start and end around `…`, so that what is
 * wrong there still fits the one-line error header a reply carries (512 characters). Details keep the whole path.
 */
export function shownPath(path: string): string {
  return path.length <= 100 ? path : `${path.slice(0, 60)}…${path.slice(-30)}`;
}

/** Renders a path of keys as `$.a[2]["odd key"]`, starting from `root`. */
export function renderPath(root: string, keys: readonly (string | number)[]): string {
  let path = root;
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) path += `.${key}`;
    else path += `[${JSON.stringify(key)}]`;
  }
  return path;
}

/**
 * Returns a deep, frozen copy of `value` when it is a JSON value, or calls `report` with the first offending
 * path. Shared sub-objects are copied twice (JSON has no references); a cycle is refused. `-0` becomes `0`
 * because that is what JSON carries. A part whose reading throws (a getter, a proxy) is reported where it was read, as
 * `unreadable (<what it threw>)`.
 * @example
 * freezeJson({ a: [1, 2] }, (path, problem) => { throw new Error(`${path} is ${problem}`) })
 */
export function freezeJson(value: unknown, report: JsonProblemReporter, root = '$'): JsonValue {
  const keys: (string | number)[] = [];
  // Only the objects on the current path: a value reused in two places is fine, one containing itself is not.
  const ancestors = new Set<object>();
  // What `report` threw, to tell it from what the value threw while it was read (which may be anything, `undefined`
  // included: hence a value no caller can throw until `report` has).
  let reported: unknown = NOTHING_REPORTED;
  const problem = (what: string): never => {
    try {
      return report(renderPath(root, keys), what);
    } catch (refusal) {
      reported = refusal;
      throw refusal;
    }
  };

  const copy = (item: unknown): JsonValue => {
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return item;
      case 'number':
        return Number.isFinite(item) ? item + 0 : problem(`${item}, which JSON cannot carry`);
      case 'undefined':
        return problem('undefined');
      case 'function':
        return problem('a function');
      case 'symbol':
        return problem('a symbol');
      case 'bigint':
        return problem('a bigint');
      default:
        return item === null ? null : copyContainer(item as object);
    }
  };

  const copyContainer = (item: object): JsonValue => {
    if (ancestors.has(item)) return problem('a circular reference');
    if (keys.length >= MAX_JSON_DEPTH) return problem(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    ancestors.add(item);
    const result = Array.isArray(item) ? copyArray(item) : copyObject(item);
    ancestors.delete(item);
    return result;
  };

  const copyArray = (items: readonly unknown[]): JsonValue => {
    const out: JsonValue[] = new Array<JsonValue>(items.length);
    for (let i = 0; i < items.length; i++) {
      keys.push(i);
      // A hole would become `null` in JSON: refuse it like `undefined`.
      out[i] = i in items ? copy(items[i]) : problem('a hole in a sparse array');
      keys.pop();
    }
    // Typed as the mutable JsonValue of the contract; frozen all the same.
    return Object.freeze(out) as JsonValue[];
  };

  const copyObject = (item: object): JsonValue => {
    if (!isPlainObject(item)) return problem(describeInstance(item));
    if (Object.getOwnPropertySymbols(item).length > 0) return problem('an object with symbol keys');
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(item)) {
      keys.push(key);
      const field = copy(item[key]);
      // Assigning "__proto__" would replace the prototype: that key is defined as data instead (rare, so slower).
      if (key === '__proto__') Object.defineProperty(out, key, { value: field, enumerable: true, writable: true });
      else out[key] = field;
      keys.pop();
    }
    return Object.freeze(out);
  };

  try {
    return copy(value);
  } catch (error) {
    if (error === reported) throw error;
    // A getter or proxy of the caller's threw while the value was read: `keys` still holds the path being read.
    return problem(`unreadable (${messageOf(error)})`);
  }
}

/**
 * Deep-freezes, in place, a value `JSON.parse` has just returned (so it is JSON, and nobody else holds it): the
 * cheap counterpart of {@link freezeJson} for what comes off the wire. Stops at `maxDepth` levels with `report`
 * (which must throw) rather than overflow the stack; the default leaves room above {@link MAX_JSON_DEPTH} for
 * the envelope a value travels in (a record, a change event).
 */
export function freezeParsedJson(
  value: unknown,
  report: (problem: string) => never,
  maxDepth = 2 * MAX_JSON_DEPTH,
): unknown {
  const freeze = (item: unknown, depth: number): void => {
    if (typeof item !== 'object' || item === null) return;
    if (depth > maxDepth) report(`nested deeper than ${maxDepth} levels`);
    if (Array.isArray(item)) for (const element of item) freeze(element, depth + 1);
    else for (const key in item) freeze((item as Record<string, unknown>)[key], depth + 1);
    Object.freeze(item);
  };
  freeze(value, 0);
  return value;
}

/**
 * Freezes `value` and everything reachable from it, in place, however deep (a loop, not recursion), each object
 * once: for what a program made and is about to hand to several readers (an execution's output), which may hold
 * more than JSON (a `Date` of a date field, whose `set…` methods then throw: see frozen-date.ts).
 * @example
 * const output = deepFreeze({ answer: 'x', tags: ['a'] }); // Object.isFrozen(output.tags) === true
 */
export function deepFreeze<T>(value: T): T {
  const seen = new Set<object>();
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof Date) freezeDate(item);
    else Object.freeze(item);
    for (const key of Object.keys(item)) pending.push((item as Record<string, unknown>)[key]);
  }
  return value;
}

/** `a Date`, `a Map`: naming the class is what tells the user why it is not JSON. */
function describeInstance(item: object): string {
  const name = (item as { constructor?: { name?: unknown } }).constructor?.name;
  const label = typeof name === 'string' && name !== '' ? name : 'object with a custom prototype';
  return `${withArticle(label)}, not a plain object`;
}
