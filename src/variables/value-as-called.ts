/**
 * A value as it was when it was handed over. What a call takes (a variable's new value, an execution's inputs) is
 * read later: behind the writes queued before it in the session process, after the module's sync. A caller that
 * reuses one object (`config.retries = 3; session.setVariable('cfg', config); config.retries = 99`) must have the
 * value of the call written, not what the object holds by the time its turn comes, and a change made after the call
 * must not make a valid value invalid.
 *
 * The copy takes what a value can be: plain objects and lists member by member, typed arrays (an embedding's
 * `Float32Array`) by their elements, `Date`s as new frozen `Date`s (see frozen-date.ts), the rest (strings, numbers,
 * class instances, functions) as they are. It judges nothing: what the check refuses (a function, a bigint, a value
 * nested too deep, a cycle) reaches the check as it was given, and so does a value whose reading throws anywhere (a
 * getter or proxy of the caller's), so that the check reads it again and names the part.
 * @module
 */
import { freezeDate } from './frozen-date.js';
import { MAX_JSON_DEPTH, isPlainObject } from './json-value.js';
import { setByName } from './names.js';

/** Stands for a part that cannot be copied (one inside itself). */
const UNCOPIABLE = Symbol('uncopiable');

/**
 * A copy of `value` as described in the module comment, its plain objects and lists frozen, wrapped as `{ copy }`;
 * `undefined` when a part of it cannot be copied or reading it threw. For values that are read in parts (an
 * execution's inputs), which are then taken as given whole.
 */
export function copyAsCalled(value: unknown): { readonly copy: unknown } | undefined {
  // Most values are numbers and strings (a temperature, a model name): nothing to copy, nothing to allocate but this.
  if (typeof value !== 'object' || value === null) return { copy: value };
  // The objects on the path being copied: a value reused in two places is copied twice, one inside itself not at all.
  const ancestors = new Set<object>();
  const copied = (part: unknown, depth: number): unknown => {
    if (typeof part !== 'object' || part === null || depth >= MAX_JSON_DEPTH) return part;
    if (part instanceof Date) return freezeDate(new Date(part.getTime()));
    // Typed arrays are not frozen (the language refuses to freeze one with elements).
    if (ArrayBuffer.isView(part) && !(part instanceof DataView)) return (part as Float32Array).slice();
    const list = Array.isArray(part);
    if (!list && !isPlainObject(part)) return part;
    if (ancestors.has(part)) throw UNCOPIABLE;
    ancestors.add(part);
    let copy: unknown[] | Record<string, unknown>;
    if (list) {
      copy = [];
      for (let index = 0; index < part.length; index++) copy.push(copied(part[index], depth + 1));
    } else {
      copy = {};
      for (const key in part) setByName(copy, key, copied(part[key], depth + 1));
    }
    ancestors.delete(part);
    return Object.freeze(copy);
  };
  try {
    return { copy: copied(value, 0) };
  } catch {
    return undefined;
  }
}

/** `value` as it is now (see the module comment), or `value` itself when it cannot be copied. */
export function valueAsCalled<T>(value: T): T {
  return (copyAsCalled(value)?.copy ?? value) as T;
}
