/**
 * JSON text as the fuzzer writes it: payloads `JSON.stringify` cannot produce (numbers out of range, duplicate keys,
 * `__proto__` as an own key), and a canonical form to compare values with.
 * @module
 */

/** JSON text sent verbatim (`1e400`, 10,000 nested arrays): what a parser sees, not what JavaScript would write. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written with its entries as given, a key repeated (which `JSON.parse` resolves to the last one). */
export class DuplicateKeys {
  constructor(readonly entries: [string, unknown][]) {}
}

/** Writes `value` as JSON text, {@link RawJson} and {@link DuplicateKeys} as they are; `undefined` as `null`. */
export function serialize(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof DuplicateKeys) return `{${value.entries.map(([k, v]) => member(k, v)).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((k) => member(k, (value as Record<string, unknown>)[k]))
      .join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

function member(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${serialize(value)}`;
}

/** Canonical text of a JSON value: keys sorted, an own `__proto__` kept; equal values have equal texts. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Sets `key` as an own enumerable property, even `__proto__` (which assignment would take as the prototype). */
export function defineOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A plain object of these entries, whatever the keys (`__proto__` becomes an own key, as `JSON.parse` makes it). */
export function plainObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) defineOwn(object, key, value);
  return object;
}

/**
 * The object a payload text parses to as a node reads it (empty text is `{}`, a byte-order mark skipped);
 * `undefined` when it is no JSON object.
 */
export function parseObject(text: string): Record<string, any> | undefined {
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text.replace(/^\ufeff/, ''));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, any>)
      : undefined;
  } catch {
    return undefined;
  }
}
