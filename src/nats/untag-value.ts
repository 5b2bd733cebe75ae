/**
 * How a node reads a request a client tagged (tagged-values.ts describes the form): the tagged fields turned back into
 * values that validation judges as it would the client's, and a malformed tag, or a number out of a double's range,
 * refused as a `ValidationError` naming where it is.
 * @module
 */
import { ValidationError } from '../errors.js';
import { UnreadablePartError } from '../variables/failure.js';
import { isPlainObject, shownPath } from '../variables/json-value.js';
import { isLeftOut } from './request-fields.js';
import { keptDepthOf, TAGGED_FIELDS, TYPED_ARRAYS } from './tagged-values.js';
import type { RequestBody } from './wire.js';

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

/**
 * The body an operation reads: `body` itself unless it has `"tagged"` (`false` and `null` are taken as left out),
 * then a copy with its tagged fields turned back into values (see tagged-values.ts). A malformed tag is a
 * `ValidationError` naming where it is, and so is a number out of a double's range in a value, tagged or not (see
 * {@link overflowRefusal}).
 */
export function untagRequest(body: RequestBody): RequestBody {
  if (isLeftOut(body.tagged)) {
    assertFiniteValues(body);
    return body;
  }
  if (typeof body.tagged !== 'boolean') {
    throw new ValidationError(`field 'tagged' must be true or false when present`, {
      details: { field: 'tagged', constraint: 'type' },
    });
  }
  const untagged: Record<string, unknown> = { ...body };
  delete untagged.tagged;
  // False is as if left out, as for every other boolean field of a request (a Go struct's zero value sends it).
  if (!body.tagged) {
    assertFiniteValues(untagged);
    return untagged;
  }
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
 * digits), which no writer means for an infinity (a float's is sent as a string, see tagged-values.ts).
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
  const keptDepth = keptDepthOf(field);
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
    if (containers.length > keptDepth + 1) return bad('nested too deep');
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
        return containers.length > keptDepth
          ? []
          : bad(
              `a deep tag inside ${containers.length} container${containers.length === 1 ? '' : 's'} (it stands only for one inside more than ${keptDepth})`,
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
