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
/**
 * The longest top-level string of the details of an error that had to be cut: longer than any id or name Tether
 * accepts (128; a lock owner 256), which the receiving side rebuilds the error from and must get whole.
 */
const MAX_TOP_LEVEL_CHARS = 300;
/** Items kept of an array in the details of an error that had to be cut. */
const MAX_ITEMS = 20;
/** Nesting kept in the details of an error that had to be cut; deeper values are named by their kind. */
const MAX_DEPTH = 4;

/**
 * `error` as sent: itself when its JSON is within {@link MAX_ERROR_BYTES}; otherwise its message and details cut
 * (see the module comment), and if that is still too large, its details reduced to their top-level numbers, booleans
 * and strings, which are what the receiving side rebuilds the error's class from.
 */
export function fittedError(error: SerializedError): SerializedError {
  if (fits(error)) return error;
  const message = shorten(error.message, MAX_MESSAGE_CHARS);
  const details = error.details ?? {};
  const cut = { code: error.code, message, details: cutDetails(details, true) };
  return fits(cut) ? cut : { code: error.code, message, details: cutDetails(details, false) };
}

function fits(error: SerializedError): boolean {
  return Buffer.byteLength(JSON.stringify(error)) <= MAX_ERROR_BYTES;
}

/**
 * The details with their top-level keys whole (Tether's own) and their strings up to {@link MAX_TOP_LEVEL_CHARS};
 * nested values cut, or left out when `nested` is false; and `cut: true`.
 */
function cutDetails(details: Record<string, unknown>, nested: boolean): Record<string, unknown> {
  const cut: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string') cut[key] = shorten(value, MAX_TOP_LEVEL_CHARS);
    else if (value === null || typeof value !== 'object') cut[key] = value;
    else if (nested) cut[key] = cutValue(value, 1);
  }
  cut.cut = true;
  return cut;
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
