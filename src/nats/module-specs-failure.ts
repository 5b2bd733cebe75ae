/**
 * The failures of the modules bucket, named after what they were for: a module's creation, its release, a read,
 * a session's listing. One that came for want of NATS or JetStream is a `StoreUnavailableError` naming the module
 * and its session, so that its caller can tell "try again later" from a fault: the bucket had no stream leader
 * answering until the retry bound (see retry-unavailable.ts), or the node's connection was lost under the operation
 * (nats.js does not retry that, and neither does the raw bucket). A value that is neither spec nor claim (written by
 * something other than a node) is an `InternalError` naming the module, the key and what is wrong with it.
 * @module
 */
import { BridgeError, InternalError, StoreUnavailableError } from '../errors.js';
import { messageOf } from '../printable.js';

/** Why a bucket operation failed with the connection gone, by nats.js error code. */
const CONNECTION_GONE: Readonly<Record<string, string>> = {
  DISCONNECT: 'NATS connection lost',
  CONNECTION_CLOSED: 'NATS connection closed',
};

/** Operations that change nothing: whatever cut them short, nothing was written. */
const READS = new Set(['read', 'list']);

/**
 * A failure of the bucket, named after what it was for: `StoreUnavailableError` when NATS or JetStream did not serve
 * it, `InternalError` otherwise (other Tether errors, a conflict say, as they are). `key` is a module's key, or a
 * session's prefix (`<session>.`).
 */
export function specsFailure(error: unknown, bucket: string, operation: string, key: string): Error {
  const dot = key.indexOf('.');
  const sessionId = key.slice(0, dot);
  const moduleId = key.slice(dot + 1);
  const ids = moduleId ? { sessionId, moduleId } : { sessionId };
  const what = moduleId
    ? `${operation} of module '${moduleId}' in session '${sessionId}'`
    : `${operation} of the modules of session '${sessionId}'`;
  if (error instanceof StoreUnavailableError) {
    // Retried until the bound: named again after what it was for, with what the retries found.
    const reason = error.details.reason;
    return new StoreUnavailableError(error.bucket, key, operation, error.waitedMs, error.outcome, {
      cause: error,
      what,
      ...(typeof reason === 'string' ? { reason } : {}),
      details: ids,
    });
  }
  if (error instanceof BridgeError && !(error instanceof InternalError)) return error;
  // `kvBucket` wraps nats.js's error in an `InternalError` of its own: the cause tells what happened.
  const cause = error instanceof InternalError && error.cause !== undefined ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const gone = typeof code === 'string' ? CONNECTION_GONE[code] : undefined;
  if (gone !== undefined) {
    // A write cut short may have been sent, and stored, before the connection went: its outcome is unknown.
    const outcome = READS.has(operation) ? 'not_applied' : 'unknown';
    return new StoreUnavailableError(bucket, key, operation, 0, outcome, {
      cause,
      what,
      reason: `${gone}: ${code}`,
      details: ids,
    });
  }
  const message = messageOf(cause);
  return new InternalError(`module specs ${what} failed: ${message}`, { cause, details: { operation, key, ...ids } });
}

const decoder = new TextDecoder();

/**
 * The `InternalError` of a module whose key (`<session>.<module>`) holds, at `revision`, a value that is neither spec
 * nor claim, for `problem` (see module-records.ts); the value's start is quoted.
 */
export function unreadableValue(
  bucket: string,
  key: string,
  revision: number,
  problem: string,
  data: Uint8Array,
): InternalError {
  const dot = key.indexOf('.');
  const sessionId = key.slice(0, dot);
  const moduleId = key.slice(dot + 1);
  const shown = JSON.stringify(decoder.decode(data.subarray(0, 80)));
  return new InternalError(
    `module '${moduleId}' of session '${sessionId}' cannot be read: modules bucket '${bucket}' key '${key}' ` +
      `(revision ${revision}) holds neither a module spec nor a claim (${problem}: ${shown})`,
    { details: { operation: 'read', bucket, key, revision, sessionId, moduleId, problem } },
  );
}
