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
 *   nine number classes, and `items`, tagged numbers the class holds as they are: see {@link typedItemRefusal}; a
 *   `BigInt64Array` or `BigUint64Array` travels as an `instance`), `instance` (any other object: `class`, its
 *   constructor's name or `""`, is all that validation reads of it), `unreadable` (`message`: what reading the part
 *   threw, a getter or a proxy of the caller's; a node reads it back as a part whose reading throws that message, an
 *   entry as a getter), `cycle` (`up`: how many containers up the repeated one is), and `deep` (a container inside
 *   more than {@link KEPT_DEPTH} others, beyond the depth validation looks at: a client never sends one elsewhere, so
 *   a node refuses one elsewhere rather than read a part of the value as something else).
 *
 * Non-finite numbers are refused inside json, list, embedding, tensor and metadata by the embedded validation, so
 * they are refused there remotely too; a top-level one is a `float` value. (Stored records and replies keep the
 * variable codec's form: `"NaN"`, `"Infinity"`, `"-Infinity"` for float values, the only place one is kept.)
 *
 * A plain number that is not finite, tagged or not, is a literal `JSON.parse` could not hold (`1e400` is read as
 * `Infinity`): no writer means one, as none writes `Infinity` as a number, so a node refuses it (see
 * {@link untagRequest}) rather than store an infinity that skipped a float's `min` and `max`.
 * @module
 */
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { UnreadablePartError } from '../variables/failure.js';
import { freezeJson, isPlainObject, MAX_JSON_DEPTH, shownPath } from '../variables/json-value.js';
import type { RequestBody } from './wire.js';

/** The request fields that hold user data and are tagged when the request says `"tagged": true`. */
export const TAGGED_FIELDS: readonly string[] = Object.freeze(['value', 'options', 'values', 'records']);

/**
 * Containers deeper than this are not sent: json validation refuses a container at depth {@link MAX_JSON_DEPTH}
 * without opening it, and tensor data one level further down.
 */
const KEPT_DEPTH = MAX_JSON_DEPTH + 1;

/** The typed arrays a node rebuilds as such: those a vector may be given as (BigInt ones are only named). */
const TYPED_ARRAYS: Readonly<Record<string, new (items: readonly number[]) => ArrayLike<number>>> = {
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

/**
 * What each integer class holds: whole numbers from the first bound to the second. A typed array built from other
 * numbers changes them without a word (300 in an `Int8Array` is 44, 2.7 is 2, `NaN` is 0; a `Uint8ClampedArray`
 * clamps and rounds), so a tagged item outside its class is refused: a real typed array never has one.
 */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  Int8Array: [-0x80, 0x7f],
  Uint8Array: [0, 0xff],
  Uint8ClampedArray: [0, 0xff],
  Int16Array: [-0x8000, 0x7fff],
  Uint16Array: [0, 0xffff],
  Int32Array: [-0x80000000, 0x7fffffff],
  Uint32Array: [0, 0xffffffff],
};

/**
 * Why the typed array class `className` cannot hold `item` as it is; `undefined` when it can. Floats hold `NaN` and
 * the infinities (validation then judges them as it would the embedded array's). A `Float32Array` rounds to the
 * nearest float32: accepted, since a client in another language may print a float32 in its shortest form (`0.1`),
 * which is not the float32 itself; a finite number beyond float32's range is refused, as it would become infinite.
 */
function typedItemRefusal(className: string, item: number): string | undefined {
  const range = INTEGER_RANGES[className];
  if (range !== undefined) {
    const [min, max] = range;
    return Number.isInteger(item) && item >= min && item <= max
      ? undefined
      : `${className} cannot hold ${String(item)} (only whole numbers from ${min} to ${max})`;
  }
  if (className === 'Float32Array' && Number.isFinite(item) && !Number.isFinite(Math.fround(item)))
    return `Float32Array cannot hold ${String(item)} (beyond float32's range, it would become infinite)`;
  return undefined;
}

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
  for (const field of present) tagged[field] = tagValue(body[field]);
  return tagged;
}

/** The tag of a part whose reading threw `error`: a node reads it back as a part that throws the same message. */
function unreadable(error: unknown): { $: 'unreadable'; message: string } {
  return { $: 'unreadable', message: messageOf(error) };
}

/** The tagged form of one value (see the module comment). */
export function tagValue(value: unknown): unknown {
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
    if (ancestors.length > KEPT_DEPTH) return { $: 'deep' };
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

/**
 * The body an operation reads: `body` itself unless it says `"tagged": true`, then a copy with its tagged fields
 * turned back into values (see the module comment). A malformed tag is a `ValidationError` naming where it is, and so
 * is a number out of a double's range in a value, tagged or not (see {@link overflowRefusal}).
 */
export function untagRequest(body: RequestBody): RequestBody {
  if (!Object.hasOwn(body, 'tagged')) {
    assertFiniteValues(body);
    return body;
  }
  if (body.tagged !== true) {
    throw new ValidationError(`field 'tagged' must be true when present`, {
      details: { field: 'tagged', constraint: 'type' },
    });
  }
  const untagged: Record<string, unknown> = { ...body };
  delete untagged.tagged;
  for (const field of TAGGED_FIELDS) {
    if (Object.hasOwn(untagged, field))
      untagged[field] = untagValue(untagged[field], field, (path) => taggedVariableAt(body, field, path));
  }
  return untagged;
}

/**
 * Refuses, in a plain body, a number out of a double's range where a variable would take it: a value itself, which a
 * `float` variable holds even when infinite. Anywhere deeper in a value, or in options, validation refuses every
 * non-finite number already (json, list, embedding, tensor, metadata, `min`/`max`), so the values are not walked.
 */
function assertFiniteValues(body: RequestBody): void {
  const check = (value: unknown, at: string, field: string, variable: unknown): void => {
    if (typeof value === 'number' && !Number.isFinite(value)) throw overflowRefusal(value, field, at, variable);
  };
  check(body.value, 'value', 'value', body.name);
  const { values, records } = body;
  if (isPlainObject(values))
    for (const name of Object.keys(values)) check(values[name], `values.${name}`, 'values', name);
  if (Array.isArray(records)) {
    records.forEach((record: unknown, i) => {
      if (isPlainObject(record)) check(record.value, `records[${i}].value`, 'records', record.name);
    });
  }
}

/**
 * The refusal of a number that `JSON.parse` read as infinite: a literal out of a double's range (`1e400`, or 400
 * digits), which no writer means for an infinity (a float's is sent as a string, see the module comment).
 */
function overflowRefusal(number: number, field: string, at: string, variable: unknown): ValidationError {
  const named = typeof variable === 'string' ? variable : undefined;
  return new ValidationError(
    `${named === undefined ? '' : `${named}: `}the number at ${shownPath(at)} is out of range of a double ` +
      `(JSON reads it as ${String(number)}); to send Infinity or -Infinity, send the string "Infinity" or ` +
      `"-Infinity" as a float's value (or {"$":"number","value":"Infinity"} in a request with "tagged": true)`,
    { details: { field, constraint: 'double', at, ...(named === undefined ? {} : { variable: named }) } },
  );
}

/** The name of the variable at `path` in tagged `field` of `body`, as far as it can be told before it is untagged. */
function taggedVariableAt(body: RequestBody, field: string, path: readonly (string | number)[]): unknown {
  if (field === 'values') return path[0];
  if (field !== 'records') return body.name;
  const record: unknown = Array.isArray(body.records) ? body.records[path[0] as number] : undefined;
  const entries = isPlainObject(record) && Array.isArray(record.entries) ? (record.entries as unknown[]) : [];
  return (entries.find((entry) => Array.isArray(entry) && entry[0] === 'name') as unknown[] | undefined)?.[1];
}

/**
 * The value a tagged form stands for; `field` names it in a refusal, and `variableAt` the variable a refused part is
 * of (by its path in `field`), when it can.
 */
export function untagValue(
  tagged: unknown,
  field = 'value',
  variableAt: (path: readonly (string | number)[]) => unknown = () => undefined,
): unknown {
  const containers: object[] = [];
  const path: (string | number)[] = [];
  const where = (): string =>
    `${field}${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')}`;
  const bad = (what: string, details: Readonly<Record<string, unknown>> = {}): never => {
    const at = where();
    throw new ValidationError(`field '${field}' has a malformed tagged value at ${shownPath(at)}: ${what}`, {
      details: { field, constraint: 'tagged', at, ...details },
    });
  };

  const untag = (item: unknown): unknown => {
    if (typeof item === 'number' && !Number.isFinite(item))
      throw overflowRefusal(item, field, where(), variableAt(path));
    if (typeof item !== 'object' || item === null) return item;
    if (containers.length > KEPT_DEPTH + 1) return bad('nested too deep');
    if (Array.isArray(item)) return untagArray(item);
    const tag = item as Record<string, unknown>;
    switch (tag.$) {
      case 'object':
        return untagObject(tag);
      case 'number':
        return tag.value === 'NaN'
          ? Number.NaN
          : tag.value === 'Infinity'
            ? Infinity
            : tag.value === '-Infinity'
              ? -Infinity
              : bad('not a non-finite number');
      case 'undefined':
      case 'hole':
        return undefined;
      case 'function':
        return () => undefined;
      case 'symbol':
        return Symbol('tagged');
      case 'bigint':
        return typeof tag.value === 'string' && /^-?\d{1,4096}$/.test(tag.value)
          ? BigInt(tag.value)
          : bad('not a bigint');
      case 'typedArray':
        return untagTypedArray(tag);
      case 'instance':
        // An object of that class name for the messages, and of no class validation accepts.
        return typeof tag.class === 'string'
          ? (Object.create(Object.freeze({ constructor: Object.freeze({ name: tag.class }) })) as object)
          : bad('an instance without a class name');
      case 'unreadable':
        // The value itself: every reading of it throws, as the client's did (its entries are getters: see `placed`).
        return typeof tag.message === 'string'
          ? throwingProxy(tag.message)
          : bad('an unreadable part without a message');
      case 'cycle': {
        const up = tag.up;
        if (typeof up !== 'number' || !Number.isSafeInteger(up) || up < 1 || up > containers.length)
          return bad('a cycle to no enclosing container');
        return containers[containers.length - up];
      }
      case 'deep':
        // Only where a client cuts a value off (see tagValue); anywhere else it would hide a part of the value. An
        // empty container, not null: a record's value starts two containers down, so validation reaches the cut
        // one there and must refuse it for its depth, as it refuses the container cut off.
        return containers.length > KEPT_DEPTH
          ? []
          : bad(
              `a deep tag inside ${containers.length} container${containers.length === 1 ? '' : 's'} (it stands only for one inside more than ${KEPT_DEPTH})`,
            );
      default:
        return bad('an unknown tag');
    }
  };

  const inside = <T extends object>(container: T, fill: (container: T) => void): T => {
    containers.push(container);
    fill(container);
    containers.pop();
    return container;
  };

  const untagArray = (items: readonly unknown[]): unknown[] =>
    inside(new Array<unknown>(items.length), (out) => {
      items.forEach((item, i) => {
        path.push(i);
        // A hole stays a hole: validation tells it from an `undefined` item.
        if (isUnreadable(item)) Object.defineProperty(out, i, placed(item));
        else if (!isHole(item)) out[i] = untag(item);
        path.pop();
      });
    });

  const untagObject = (tag: Record<string, unknown>): object => {
    const entries = tag.entries;
    if (!Array.isArray(entries)) return bad('an object without entries');
    return inside({} as Record<string | symbol, unknown>, (out) => {
      for (const entry of entries) {
        if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') bad('a malformed entry');
        const [key, item] = entry as [string, unknown];
        path.push(key);
        // Defined, not assigned: a "__proto__" key stays data.
        Object.defineProperty(out, key, placed(item));
        path.pop();
      }
      if (tag.symbolKeys === true) out[Symbol('tagged')] = null;
    });
  };

  /**
   * How an entry or item is defined: as its value, or, when the client could not read it, as a getter that throws
   * what the client's reading threw, so that validation refuses it at the same path with the same message.
   */
  const placed = (item: unknown): PropertyDescriptor => {
    if (!isUnreadable(item)) return { value: untag(item), enumerable: true, writable: true, configurable: true };
    const { message } = item as { message?: unknown };
    if (typeof message !== 'string') return bad('an unreadable part without a message');
    return {
      get: () => {
        throw new UnreadablePartError(message);
      },
      enumerable: true,
      configurable: true,
    };
  };

  const untagTypedArray = (tag: Record<string, unknown>): unknown => {
    const { class: className, items } = tag;
    if (typeof className !== 'string' || !Object.hasOwn(TYPED_ARRAYS, className) || !Array.isArray(items))
      return bad('a malformed typed array');
    const numbers = items.map((item, i) => {
      path.push(i);
      const number = untag(item);
      if (typeof number !== 'number') bad('a typed array of something else than numbers');
      const refusal = typedItemRefusal(className, number as number);
      if (refusal !== undefined) bad(refusal, { class: className, index: i });
      path.pop();
      return number as number;
    });
    return new TYPED_ARRAYS[className]!(numbers);
  };

  return untag(tagged);
}

/** An object every reading of which throws `message`, as a client's proxy did. */
function throwingProxy(message: string): object {
  const fail = (): never => {
    throw new UnreadablePartError(message);
  };
  return new Proxy(
    {},
    {
      get: fail,
      has: fail,
      ownKeys: fail,
      getPrototypeOf: fail,
      getOwnPropertyDescriptor: fail,
    },
  );
}

function isUnreadable(item: unknown): boolean {
  return typeof item === 'object' && item !== null && (item as { $?: unknown }).$ === 'unreadable';
}

function isHole(item: unknown): boolean {
  return typeof item === 'object' && item !== null && (item as { $?: unknown }).$ === 'hole';
}
