/**
 * The JetStream API error code of a nats.js error, and the codes read in more than one place (nats-server's
 * errors.json).
 * @module
 */
import type { NatsError } from 'nats';

/** The JetStream API error code a library error carries, if any (e.g. 10071 wrong last sequence). */
export function apiErrorCode(error: unknown): number | undefined {
  return (error as Partial<NatsError> | undefined)?.api_error?.err_code;
}

/** Whether `error` is JetStream's "no message found" (10037): a message get past the last one, or of one removed. */
export function isNoMessageFound(error: unknown): boolean {
  return apiErrorCode(error) === 10037;
}

/**
 * For a message get's `catch`: `undefined` for JetStream's "no message found", which says there is none to read;
 * any other failure is thrown again.
 * @example
 * const message = await manager.streams.getMessage(stream, { seq }).catch(noMessage);
 */
export function noMessage(error: unknown): undefined {
  if (isNoMessageFound(error)) return undefined;
  throw error;
}
