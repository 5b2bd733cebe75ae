/**
 * Error replies cut to a few kilobytes, which fit in any NATS message. A refusal often repeats what the caller sent (an
 * unknown field's name, a tensor's shape, a provider's error page), and a caller may send most of a megabyte of it:
 * repeated whole in the message and again in the details, the reply would be over the server's `max_payload`, and
 * the caller would get an `internal_error` in place of the refusal. An error that is larger than
 * {@link MAX_ERROR_BYTES} once encoded keeps its code and the shape of its details, with each string cut, each
 * array shortened, and `details.cut: true` saying so. Embedded callers get their errors whole: nothing limits them.
 * @module
 */
import type { SerializedError } from '../errors.js';
import { shorten } from '../variables/failure.js';

/** Largest error, as JSON, sent whole: far more than any error Tether writes about a request of sensible size. */
export const MAX_ERROR_BYTES = 16 * 1024;

/** The longest message of an error that had to be cut. */
const MAX_MESSAGE_CHARS = 1000;
/** Items kept of an array in the details of an error that had to be cut. */
const MAX_ITEMS = 20;
/** Nesting kept in the details of an error that had to be cut; deeper values are named by their kind. */
const MAX_DEPTH = 4;

/**
 * `error` as sent: itself when its JSON is within {@link MAX_ERROR_BYTES}; otherwise its message and details cut
 * (see the module comment), and if that is still too large, its details reduced to their top-level numbers, booleans
 * and cut strings, which are what the receiving side rebuilds the error's class from.
 */
export function fittedError(error: SerializedError): SerializedError {
  if (fits(error)) return error;
  const message =
    error.message.length > MAX_MESSAGE_CHARS ? `${error.message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : error.message;
  const details = error.details ?? {};
  const cut = { code: error.code, message, details: { ...(cutValue(details, 0) as object), cut: true } };
  if (fits(cut)) return cut;
  const scalars = Object.entries(details)
    .filter(([, value]) => value === null || ['string', 'number', 'boolean'].includes(typeof value))
    .slice(0, MAX_ITEMS)
    .map(([key, value]) => [shorten(key), typeof value === 'string' ? shorten(value) : value]);
  return { code: error.code, message, details: { ...Object.fromEntries(scalars), cut: true } };
}

function fits(error: SerializedError): boolean {
  return Buffer.byteLength(JSON.stringify(error)) <= MAX_ERROR_BYTES;
}

/** A value of the details with every string cut and every array shortened, down to {@link MAX_DEPTH}. */
function cutValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return shorten(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? 'an array' : 'an object';
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => cutValue(item, depth + 1));
  const cut: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, item] of Object.entries(value)) {
    if (kept++ >= MAX_ITEMS) break;
    cut[shorten(key)] = cutValue(item, depth + 1);
  }
  return cut;
}
