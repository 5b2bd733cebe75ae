/**
 * An execution's inputs as they were when `execute` was called. The program reads them later (after the module's
 * sync, behind the executions queued before it), and a caller that reuses one inputs object for several calls
 * (`inputs.question = next; calls.push(qa.execute(inputs))`) had every execution answer the last question. An
 * inspector that redacted a module snapshot's inputs in place rewrote the running execution the same way.
 *
 * The copy takes what JSON can carry: plain objects and lists member by member, `Date`s as new frozen `Date`s (see
 * frozen-date.ts), the rest (strings, numbers, class instances, functions) as they are. It judges nothing: what the
 * program's check refuses (a function, a bigint, a value nested too deep, a cycle) reaches the check as it was given,
 * and so do inputs whose reading throws anywhere (a getter or proxy of the caller's), so that the check reads them
 * again and names the part.
 * @module
 */
import { freezeDate } from '../variables/frozen-date.js';
import { MAX_JSON_DEPTH, isPlainObject } from '../variables/json-value.js';
import { setByName } from '../variables/names.js';

/** Stands for a part that cannot be copied (one inside itself): the inputs then go to the check as given. */
const UNCOPIABLE = Symbol('uncopiable');

/**
 * A frozen copy of `inputs` (own and inherited enumerable fields, as the program reads them), their plain objects and
 * lists frozen as well; `inputs` itself when a part of them cannot be copied (see the module comment).
 */
export function inputsAsCalled(inputs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  // The objects on the path being copied: a value reused in two places is copied twice, one inside itself not at all.
  const ancestors = new Set<object>();
  const copied = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null || depth >= MAX_JSON_DEPTH) return value;
    if (value instanceof Date) return freezeDate(new Date(value.getTime()));
    const list = Array.isArray(value);
    if (!list && !isPlainObject(value)) return value;
    if (ancestors.has(value)) throw UNCOPIABLE;
    ancestors.add(value);
    let copy: unknown[] | Record<string, unknown>;
    if (list) {
      copy = [];
      for (let index = 0; index < value.length; index++) copy.push(copied(value[index], depth + 1));
    } else {
      copy = {};
      for (const key in value) setByName(copy, key, copied(value[key], depth + 1));
    }
    ancestors.delete(value);
    return Object.freeze(copy);
  };
  try {
    const copy: Record<string, unknown> = {};
    for (const field in inputs) setByName(copy, field, copied(inputs[field], 0));
    return Object.freeze(copy);
  } catch {
    // A cycle, or a read that threw: the check refuses these inputs, naming what it found.
    return inputs;
  }
}
