/**
 * Reading bytes that anything with access may have written as the JSON object Tether writes there: the body of a
 * message any NATS client may send (a control message, an answer to one), or a value of a bucket only nodes should
 * write. `null` read as an object is what took every node's connection down.
 * @module
 */
const decoder = new TextDecoder();

/** The JSON object `data` holds, or why it holds none. */
export type ReadJsonObject = { readonly object: Record<string, unknown> } | { readonly problem: string };

/** The JSON object `data` holds; `problem` says why it holds none: `not JSON`, or `not a JSON object`. */
export function readJsonObject(data: Uint8Array): ReadJsonObject {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return { problem: 'not JSON' };
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? { object: value as Record<string, unknown> }
    : { problem: 'not a JSON object' };
}

/**
 * The JSON object a message carries: `{}` for an empty body, `undefined` for one that is not JSON or not an object
 * (`null`, an array, a number), which a sender of Tether's never sends.
 */
export function jsonObjectBody(data: Uint8Array): Record<string, unknown> | undefined {
  if (data.length === 0) return {};
  const read = readJsonObject(data);
  return 'object' in read ? read.object : undefined;
}
