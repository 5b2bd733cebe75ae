/**
 * What checking a value against a `json` shape looks up at every node, built once per shape node and kept: the
 * options of an `enum` as a set, the declared order of `properties`. A value's check then costs its own size, not
 * its size times the shape's. It was the product, on the node's one thread: an array of 20,000 items against an enum
 * of 20,000 options took 16 s, 10,000 objects against 20,000 declared properties 28 s.
 * @module
 */
import type { JsonValue } from './types.js';

/**
 * A key equal for two JSON values exactly when they are deeply equal: objects by their entries in any order, arrays
 * in order, scalars by type and value (`1` is not `"1"`).
 */
function canonicalKey(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalKey(value[key] as JsonValue)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

const enumKeys = new WeakMap<readonly JsonValue[], ReadonlySet<string>>();

/** Whether `value` is deeply equal to one of `options` (an `enum` of a normalized, frozen shape). */
export function isEnumOption(options: readonly JsonValue[], value: JsonValue): boolean {
  let keys = enumKeys.get(options);
  if (keys === undefined) enumKeys.set(options, (keys = new Set(options.map(canonicalKey))));
  return keys.has(canonicalKey(value));
}

const propertyOrders = new WeakMap<object, ReadonlyMap<string, number>>();

/**
 * The keys of `node` that `properties` declares, in declaration order: what a check visits, found from the value's
 * keys rather than from every declared property.
 */
export function declaredKeysOf(properties: { readonly [key: string]: unknown }, node: object): string[] {
  let order = propertyOrders.get(properties);
  if (order === undefined)
    propertyOrders.set(properties, (order = new Map(Object.keys(properties).map((k, i) => [k, i]))));
  const positions = order;
  return Object.keys(node)
    .filter((key) => positions.has(key))
    .sort((a, b) => positions.get(a)! - positions.get(b)!);
}
