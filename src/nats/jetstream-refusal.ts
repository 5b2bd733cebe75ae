/**
 * JetStream's answers about the deployment rather than about one operation: the NATS user's permissions refuse a
 * subject a bucket operation needs (the JetStream API's, the bucket's keys', or the reply inbox). That is no fault
 * of the node's and does not pass by retrying, so it is no `InternalError`: it is the `NatsConnectionError`
 * (`refused`) every refused subject gives (permission-refusal.ts), naming the subject, the bucket and the key, and a
 * write's outcome.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { BridgeError } from '../errors.js';
import { refusalOf, refusedError } from './permission-refusal.js';

/** The operations that write; only their failures have an outcome to tell. */
const WRITES: ReadonlySet<string> = new Set(['put', 'delete', 'purge']);

/** A bucket operation, as its error names it: `put` of `s1.x` in `tether_vars` on a connection. */
export interface BucketOperation {
  /** The connection it went on: a refusal names its server. */
  readonly connection: NatsConnection;
  readonly bucket: string;
  /** `put`, `delete`, `purge`, `get`, `open`, `history`... */
  readonly operation: string;
  readonly key: string;
}

/**
 * The typed error of `error` when it is a refusal of the deployment's (see the module comment), else `undefined`.
 * A publish refused was not sent (a write's outcome `not_applied`); a refused reply inbox let the request go
 * unanswered (`unknown`).
 */
export function jetStreamRefusal(error: unknown, at: BucketOperation): BridgeError | undefined {
  const { bucket, operation, key } = at;
  const refusal = refusalOf(error);
  if (refusal === undefined) return undefined;
  const outcome = WRITES.has(operation) ? { outcome: refusal.operation === 'publish' ? 'not_applied' : 'unknown' } : {};
  const what =
    refusal.operation === 'publish'
      ? `${operation} of '${key}' in KV bucket '${bucket}' not sent`
      : `${operation} of '${key}' in KV bucket '${bucket}' can get no answer (its reply inbox is refused)`;
  return refusedError(at.connection.getServer(), what, error, { bucket, key, ...outcome });
}
