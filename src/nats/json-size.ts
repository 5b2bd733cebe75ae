/**
 * The size of a value's JSON without encoding it all again: what inspection needs to tell whether a snapshot
 * fits the server's `max_payload`, and which of its fields are too large, on every transition of a process.
 *
 * Encoding a session's whole context per transition to learn its size cost O(bytes of every variable) each
 * time: 20 values of 500 KB made ten one-integer writes take seconds and stall the event loop for half a second.
 * A session's variable records are immutable and shared from one snapshot to the next (as are the events, the
 * queued writes and the executions the machines keep), so the size of each object is remembered once measured:
 * a snapshot then costs a walk over its containers, and each large value is measured once in its life.
 * @module
 */

/** Sizes of objects already measured; Maps are never remembered (a session's maps change in place). */
const sizes = new WeakMap<object, number>();

/** What JSON leaves out of an object (and writes as `null` in an array). */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/** Bytes of a string's JSON (quotes and escapes included) as UTF-8. */
function stringBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function objectBytes(value: object): number {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // A Date and the like: JSON writes what toJSON returns. Rare in snapshots, so measured the plain way.
    const json = JSON.stringify(value) as string | undefined;
    return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  }
  if (Array.isArray(value)) {
    let bytes = 2 + Math.max(0, value.length - 1); // brackets and commas
    for (const item of value as unknown[]) bytes += isSkipped(item) ? 4 : jsonBytes(item);
    return bytes;
  }
  let bytes = 2; // braces
  let fields = 0;
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (isSkipped(field)) continue;
    bytes += stringBytes(key) + 1 + jsonBytes(field); // "key":value
    fields += 1;
  }
  return bytes + Math.max(0, fields - 1);
}

/**
 * The number of UTF-8 bytes of `JSON.stringify(value)` (0 when JSON has nothing to write for it), without
 * building that text: each object's size is remembered, so a value shared by many snapshots is measured once.
 * An object must therefore not change once measured; Maps, which do, are measured every time (as JSON does, they
 * count as `{}`: plain objects are what carry their entries on the wire). Throws as JSON.stringify would on a
 * BigInt; a cycle ends in a RangeError.
 */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4; // NaN and Infinity are written as null
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      const known = sizes.get(value);
      if (known !== undefined) return known;
      const bytes = objectBytes(value);
      if (!(value instanceof Map)) sizes.set(value, bytes);
      return bytes;
    }
    case 'bigint':
      return Buffer.byteLength(JSON.stringify(value), 'utf8'); // throws, as encoding it would
    default:
      return 0; // undefined, a function, a symbol
  }
}
