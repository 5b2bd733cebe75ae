/**
 * The failures of the modules bucket, named after what they were for: a module's creation, its release, a read,
 * a session's listing. One that came for want of NATS or JetStream (the node reconnecting, JetStream not answering)
 * is a `StoreUnavailableError`, so that its caller can tell "try again later" from a fault.
 * @module
 */
import { InternalError, StoreUnavailableError } from '../errors.js';

/** Why a bucket operation failed for want of NATS or JetStream, by nats.js error code. */
const UNAVAILABLE: Readonly<Record<string, string>> = {
  TIMEOUT: 'JetStream did not answer in time',
  '503': 'no JetStream server answered',
  DISCONNECT: 'NATS connection lost',
  CONNECTION_CLOSED: 'NATS connection closed',
};

/**
 * A failure of the bucket, named after what it was for: `StoreUnavailableError` when NATS or JetStream could not be
 * reached (nothing was written), `InternalError` otherwise. `key` is a module's key, or a session's prefix.
 */
export function specsFailure(
  error: unknown,
  bucket: string,
  operation: string,
  key: string,
): InternalError | StoreUnavailableError {
  // `kvBucket` wraps nats.js's error in an `InternalError` of its own: the cause tells what happened.
  const cause = error instanceof InternalError && error.cause !== undefined ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const dot = key.indexOf('.');
  const sessionId = key.slice(0, dot);
  const moduleId = key.slice(dot + 1);
  const ids = moduleId ? { sessionId, moduleId } : { sessionId };
  const unavailable = typeof code === 'string' ? UNAVAILABLE[code] : undefined;
  if (unavailable !== undefined) {
    const what = moduleId
      ? `${operation} of module '${moduleId}' in session '${sessionId}'`
      : `${operation} of the modules of session '${sessionId}'`;
    return new StoreUnavailableError(bucket, what, `${unavailable}: ${code}`, { cause, details: ids });
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new InternalError(`module specs ${operation} of '${key}' failed: ${message}`, {
    cause,
    details: { operation, key },
  });
}
