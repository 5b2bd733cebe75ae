/**
 * An execution's inputs as they were when `execute` was called. The program reads them later (after the module's
 * sync, behind the executions queued before it), and a caller that reuses one inputs object for several calls
 * (`inputs.question = next; calls.push(qa.execute(inputs))`) had every execution answer the last question. An
 * inspector that redacted a module snapshot's inputs in place rewrote the running execution the same way.
 *
 * The copy takes what JSON can carry: plain objects and lists member by member, `Date`s as new `Date`s, the rest
 * (strings, numbers, class instances, functions) as they are. It judges nothing: what the program's check refuses
 * (a function, a bigint, a value nested too deep) reaches the check as it was given, and a part whose reading
 * throws is left as given too, so that the check reads it again and names it.
 * @module
 */
import { MAX_JSON_DEPTH } from '../variables/json-value.js';

/**
 * A frozen copy of `inputs` (own and inherited enumerable fields, as the program reads them), each field copied
 * with its plain objects, lists and dates frozen as well.
 */
export function inputsAsCalled(inputs: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = {};
  for (const field in inputs) {
    const given = inputs[field];
    let value = given;
    try {
      value = copied(given, 0);
    } catch {
      // Left as given: see above.
    }
    put(copy, field, value);
  }
  return Object.freeze(copy);
}

function copied(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth >= MAX_JSON_DEPTH) return value;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (let index = 0; index < value.length; index++) list.push(copied(value[index], depth + 1));
    return Object.freeze(list);
  }
  if (value instanceof Date) return Object.freeze(new Date(value.getTime()));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const object: Record<string, unknown> = {};
  for (const key in value) put(object, key, copied((value as Record<string, unknown>)[key], depth + 1));
  return Object.freeze(object);
}

/** Sets `object[key]`, as a field even for `__proto__` (JSON's own key there), which assigning would make the prototype. */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
