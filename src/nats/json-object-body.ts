/**
 * The body of a message any NATS client may send (a control message, an answer to one), read as the JSON object a
 * sender of Tether's sends, or as nothing: `null` read as an object is what took every node's connection down.
 * @module
 */
const decoder = new TextDecoder();

/**
 * The JSON object a message carries: `{}` for an empty body, `undefined` for one that is not JSON or not an object
 * (`null`, an array, a number), which a sender of Tether's never sends.
 */
export function jsonObjectBody(data: Uint8Array): Record<string, unknown> | undefined {
  if (data.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}
