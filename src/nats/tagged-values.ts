/**
 * How a client sends a value JSON cannot carry, so that a node judges it as the embedded runtime would. `JSON.stringify`
 * changes such values without a word (`{ a: undefined }` loses `a`, a `Date` becomes its text, `NaN` in a list
 * becomes `null`, a `Float32Array` becomes an object of indices) and throws on others (a bigint, a cycle), so a node
 * would store what the embedded validation refuses, or refuse what it accepts. The client does not know the
 * variable's type (nor, for a cycle, can it send the value at all), so it cannot decide; it sends instead a stand-in
 * the node turns back into a value that the same validation reads the same way: the same accepted value, or the
 * same `ValidationError` naming the same path.
 *
 * The tagged form, used only when a request says `"tagged": true`, for its fields `value`, `options`, `values` and
 * `records` (a request without it is read as plain JSON, so values that JSON carries exactly travel as before):
 * - strings, booleans, `null` and finite numbers are themselves, and arrays are arrays of tagged items;
 * - every JSON object is a tag `{ "$": kind, ... }`: `object` (`entries`: `[key, tagged]` pairs; `symbolKeys: true`
 *   when it had symbol keys), `number` (`value`: `"NaN"`, `"Infinity"` or `"-Infinity"`), `undefined`, `hole` (of a
 *   sparse array), `function`, `symbol`, `bigint` (`value`: its decimal digits), `typedArray` (`class`, one of the
 *   nine number classes, and `items`, tagged numbers the class holds as they are: see untag-value.ts; a
 *   `BigInt64Array` or `BigUint64Array` travels as an `instance`), `instance` (any other object: `class`, its
 *   constructor's name or `""`, is all that validation reads of it), `unreadable` (`message`: what reading the part
 *   threw, a getter or a proxy of the caller's; a node reads it back as a part whose reading throws that message, an
 *   entry as a getter), `cycle` (`up`: how many containers up the repeated one is), and `deep` (a container inside
 *   more than {@link KEPT_DEPTH} others, {@link KEPT_OPTIONS_DEPTH} in `options` and `records`: beyond the depth
 *   validation looks at; a client never sends one elsewhere, so a node refuses one elsewhere rather than read a part
 *   of the value as something else).
 *
 * Non-finite numbers are refused inside json, list, embedding, tensor and metadata by the embedded validation, so
 * they are refused there remotely too; a top-level one is a `float` value. (Stored records and replies keep the
 * variable codec's form: `"NaN"`, `"Infinity"`, `"-Infinity"` for float values, the only place one is kept.)
 *
 * A plain number that is not finite, tagged or not, is a literal `JSON.parse` could not hold (`1e400` is read as
 * `Infinity`): no writer means one, as none writes `Infinity` as a number, so a node refuses it (see
 * `untagRequest` in untag-value.ts) rather than store an infinity that skipped a float's `min` and `max`.
 * @module
 */
import { messageOf } from '../printable.js';
import { MAX_SHAPE_JSON_DEPTH } from '../variables/json-shape.js';
import { freezeJson, isPlainObject, MAX_JSON_DEPTH } from '../variables/json-value.js';

/** The request fields that hold user data and are tagged when the request says `"tagged": true`. */
export const TAGGED_FIELDS: readonly string[] = Object.freeze(['value', 'options', 'values', 'records']);

/**
 * Containers deeper than this are not sent: json validation refuses a container at depth {@link MAX_JSON_DEPTH}
 * without opening it, and tensor data one level further down.
 */
export const KEPT_DEPTH = MAX_JSON_DEPTH + 1;

/**
 * {@link KEPT_DEPTH} of the fields that carry a definition's options (`options`, and `records` of an import, one
 * container further down): a `json` shape sits in them two containers down (options, constraints) and nests deeper
 * than a value may (see `MAX_SHAPE_JSON_DEPTH`). Cut off at {@link KEPT_DEPTH}, a shape of 128 levels of `properties`
 * reached the node as an empty list, and a define the embedded session took was refused as "must be an object".
 */
export const KEPT_OPTIONS_DEPTH = 3 + MAX_SHAPE_JSON_DEPTH;

/** How many containers deep the tagged form of `field` keeps. */
export function keptDepthOf(field: string): number {
  return field === 'options' || field === 'records' ? KEPT_OPTIONS_DEPTH : KEPT_DEPTH;
}

/** The typed arrays a node rebuilds as such: those a vector may be given as (BigInt ones are only named). */
export const TYPED_ARRAYS: Readonly<Record<string, new (items: readonly number[]) => ArrayLike<number>>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

const NOT_JSON = Symbol('not JSON');

/** True when JSON carries `value` unchanged: exactly what the embedded json validation accepts. */
export function isExactJson(value: unknown): boolean {
  try {
    freezeJson(value, () => {
      throw NOT_JSON;
    });
    return true;
  } catch (error) {
    if (error === NOT_JSON) return false;
    throw error;
  }
}

/**
 * The request body to send: `body` itself when its user-data `fields` are exact JSON, otherwise a copy with those
 * fields tagged and `tagged: true`.
 * @example
 * tagRequest({ name: 'x', value: [1, Number.NaN] }, ['value'])
 * // { name: 'x', value: [1, { $: 'number', value: 'NaN' }], tagged: true }
 */
export function tagRequest(body: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const present = fields.filter((field) => Object.hasOwn(body, field));
  if (present.every((field) => isExactJson(body[field]))) return body;
  const tagged: Record<string, unknown> = { ...body, tagged: true };
  for (const field of present) tagged[field] = tagValue(body[field], keptDepthOf(field));
  return tagged;
}

/** The tag of a part whose reading threw `error`: a node reads it back as a part that throws the same message. */
function unreadable(error: unknown): { $: 'unreadable'; message: string } {
  return { $: 'unreadable', message: messageOf(error) };
}

/** The tagged form of one value (see the module comment), its containers below `keptDepth` others cut off. */
export function tagValue(value: unknown, keptDepth = KEPT_DEPTH): unknown {
  const ancestors: unknown[] = [];

  const tag = (item: unknown): unknown => {
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return item;
      case 'number':
        return Number.isFinite(item) ? item : { $: 'number', value: String(item) };
      case 'undefined':
        return { $: 'undefined' };
      case 'function':
        return { $: 'function' };
      case 'symbol':
        return { $: 'symbol' };
      case 'bigint':
        return { $: 'bigint', value: item.toString() };
      default:
        return item === null ? null : tagContainer(item as object);
    }
  };

  const tagContainer = (item: object): unknown => {
    const repeated = ancestors.lastIndexOf(item);
    if (repeated !== -1) return { $: 'cycle', up: ancestors.length - repeated };
    if (ancestors.length > keptDepth) return { $: 'deep' };
    ancestors.push(item);
    try {
      return tagObject(item);
    } catch (error) {
      // Its kind, its keys or its length could not be read (a proxy's trap threw): the container stands for that.
      return unreadable(error);
    } finally {
      ancestors.pop();
    }
  };

  /** The tagged form of the entry `key` of `item`: `unreadable` when reading it threw (a getter, a proxy's trap). */
  const tagEntry = (item: object, key: string | number): unknown => {
    let part: unknown;
    try {
      if (typeof key === 'number' && !(key in item)) return { $: 'hole' };
      part = (item as Record<string | number, unknown>)[key];
    } catch (error) {
      return unreadable(error);
    }
    return tag(part);
  };

  const tagObject = (item: object): unknown => {
    if (Array.isArray(item)) {
      const items = item as unknown[];
      return Array.from({ length: items.length }, (_, i) => tagEntry(items, i));
    }
    if (isPlainObject(item)) {
      const entries = Object.keys(item).map((key) => [key, tagEntry(item, key)]);
      return Object.getOwnPropertySymbols(item).length > 0
        ? { $: 'object', entries, symbolKeys: true }
        : { $: 'object', entries };
    }
    const base = Object.keys(TYPED_ARRAYS).find((typed) => item instanceof TYPED_ARRAYS[typed]!);
    if (base !== undefined) return { $: 'typedArray', class: base, items: Array.from(item as ArrayLike<number>, tag) };
    const name = (item as { constructor?: { name?: unknown } }).constructor?.name;
    return { $: 'instance', class: typeof name === 'string' ? name : '' };
  };

  return tag(value);
}
