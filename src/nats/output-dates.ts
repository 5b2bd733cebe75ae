/**
 * The `Date`s of an execution's output across the wire. Ax gives a `date` or `datetime` output field as a `Date`,
 * which JSON sends as its ISO 8601 text: a remote handle would have handed out a string where an embedded one hands
 * out a `Date`. So a node sends with each result (a reply, a `module.result` event) `outputDates`, the JSON Pointers
 * (RFC 6901, relative to `output`) of the parts that were `Date`s, and a client turns those parts back into `Date`s.
 * The field is there only when the output held a `Date`; a client in another language reads the pointers, or takes
 * the text as it is.
 * @module
 */
import { isPlainObject } from '../variables/json-value.js';

/** A result as a node sends it: `outputDates` names the `Date`s of its output, when it holds any. */
export type WireResult<T> = T | (T & { readonly outputDates: readonly string[] });

/** `result` with `outputDates` when its output holds `Date`s (a new object then), else `result` itself. */
export function withOutputDates<T extends { readonly output?: unknown }>(result: T): WireResult<T> {
  const pointers = datePointers(result.output);
  return pointers.length === 0 ? result : { ...result, outputDates: pointers };
}

/**
 * Turns back into `Date`s, in place, the parts of a result parsed from JSON that its `outputDates` names, and removes
 * the field, so the result is what an embedded handle gives. Only a part that is there and holds a date's text is
 * turned; anything else in the field (no node sends it) is left as it is.
 */
export function reviveOutputDates(result: unknown): void {
  if (!isPlainObject(result) || !Object.hasOwn(result, 'outputDates')) return;
  const { outputDates, output } = result;
  delete result.outputDates;
  if (!Array.isArray(outputDates)) return;
  for (const pointer of outputDates) {
    if (typeof pointer !== 'string' || !pointer.startsWith('/')) continue;
    const keys = pointer.slice(1).split('/').map(unescapeKey);
    const last = keys.pop()!;
    let parent: unknown = output;
    for (const key of keys) parent = ownPart(parent, key);
    const text = ownPart(parent, last);
    if (typeof text !== 'string') continue;
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) (parent as Record<string, unknown>)[last] = date;
  }
}

/** The JSON Pointers of the `Date`s in `output`, through its lists and plain objects (a loop: outputs nest deep). */
function datePointers(output: unknown): string[] {
  const pointers: string[] = [];
  const seen = new Set<object>();
  const pending: { readonly value: unknown; readonly pointer: string }[] = [{ value: output, pointer: '' }];
  while (pending.length > 0) {
    const { value, pointer } = pending.pop()!;
    if (value instanceof Date) pointers.push(pointer);
    else if ((Array.isArray(value) || isPlainObject(value)) && !seen.has(value)) {
      seen.add(value);
      for (const [key, part] of Object.entries(value))
        pending.push({ value: part, pointer: `${pointer}/${escapeKey(key)}` });
    }
  }
  return pointers;
}

/** The part of `container` under its own `key`, or `undefined`: never one it inherits (`__proto__`). */
function ownPart(container: unknown, key: string): unknown {
  return typeof container === 'object' && container !== null && Object.hasOwn(container, key)
    ? (container as Record<string, unknown>)[key]
    : undefined;
}

/** RFC 6901: `~` as `~0`, `/` as `~1`. */
function escapeKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapeKey(key: string): string {
  return key.replaceAll('~1', '/').replaceAll('~0', '~');
}
