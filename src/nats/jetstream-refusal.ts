/**
 * JetStream's answers about the deployment rather than about one operation: the NATS user's permissions refuse a
 * subject a bucket operation needs (the JetStream API's, the bucket's keys', or the reply inbox), or the JetStream
 * limits of the user's account (or of its server) are reached: its storage or memory full, its streams or consumers
 * at their maximum. Neither is a fault of the node's and neither passes by retrying, so neither is an
 * `InternalError`: a refusal is the `NatsConnectionError` (`refused`) every refused subject gives
 * (permission-refusal.ts), a limit a `StoreLimitError`; both name the bucket and the key, and a write's outcome. Nor
 * is JetStream missing altogether (a server run without it, an account given none), which {@link noJetStream} puts
 * in words for the error of the bucket it kept from opening or from being watched.
 * @module
 */
import type { NatsConnection, NatsError } from 'nats';
import { StoreLimitError, type BridgeError, type StoreLimit } from '../errors.js';
import { messageOf } from '../printable.js';
import { refusalOf, refusedError } from './permission-refusal.js';

/**
 * The JetStream API error codes of a limit reached (nats-server's errors.json), by the limit each names: the server
 * answers a put or a stream create with them, whatever its wording.
 */
const LIMIT_CODES: ReadonlyMap<number, StoreLimit> = new Map([
  [10002, 'storage'], // JSAccountResourcesExceededErr: "resource limits exceeded for account"
  [10047, 'storage'], // JSStorageResourcesExceededErr: "insufficient storage resources available"
  [10028, 'memory'], // JSMemoryResourcesExceededErr: "insufficient memory resources available"
  [10027, 'streams'], // JSMaximumStreamsLimitErr: "maximum number of streams reached"
  [10026, 'consumers'], // JSMaximumConsumersLimitErr: "maximum consumers limit reached"
  [10023, 'resources'], // JSInsufficientResourcesErr: "insufficient resources" (the server's own)
]);

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
 * A limit reached refused the operation before anything was stored (`not_applied`). A publish refused was not sent
 * (a write's outcome `not_applied`); a refused reply inbox let the request go unanswered (`unknown`).
 */
export function jetStreamRefusal(error: unknown, at: BucketOperation): BridgeError | undefined {
  const { bucket, operation, key } = at;
  const answer = (error as Partial<NatsError> | undefined)?.api_error;
  const limit = answer?.err_code === undefined ? undefined : LIMIT_CODES.get(answer.err_code);
  if (limit !== undefined)
    return new StoreLimitError(bucket, key, operation, limit, answer?.description, { cause: error });
  const refusal = refusalOf(error);
  if (refusal === undefined) return undefined;
  const outcome = WRITES.has(operation) ? { outcome: refusal.operation === 'publish' ? 'not_applied' : 'unknown' } : {};
  const what =
    refusal.operation === 'publish'
      ? `${operation} of '${key}' in KV bucket '${bucket}' not sent`
      : `${operation} of '${key}' in KV bucket '${bucket}' can get no answer (its reply inbox is refused)`;
  return refusedError(at.connection.getServer(), what, error, { bucket, key, ...outcome });
}

/** JetStream's "not enabled for account": the server runs JetStream, the connection's account has none. */
const NOT_ENABLED_FOR_ACCOUNT = 10039;

/**
 * What is missing when a JetStream API request (opening a bucket, creating a watch's consumer) failed with `503`:
 * the server answered that the user's account has no JetStream; or nobody answered (no responders, which nats.js
 * reports as a bare "503") on a server that runs without JetStream (`jetStreamHere` false, as its INFO says: on one
 * that runs it, no responders means no leader yet, which an election ends). `undefined` for any other failure.
 */
export function noJetStream(error: unknown, jetStreamHere = false): string | undefined {
  if ((error as Partial<NatsError> | undefined)?.code !== '503') return undefined;
  const answered = (error as Partial<NatsError> | undefined)?.api_error?.err_code;
  if (answered === NOT_ENABLED_FOR_ACCOUNT)
    return "JetStream is not enabled for this NATS user's account (give the account a jetstream block in the server's config)";
  if (answered !== undefined || jetStreamHere) return undefined;
  return 'JetStream is not enabled on this NATS server (start nats-server with -js, or give its config a jetstream block)';
}

/**
 * What a failed JetStream operation says: nats.js words an API answer of status 503 as that bare status ("503") and
 * keeps JetStream's own description aside (a store failure: "open …/1.blk: no such file or directory"); that
 * description, with its code, is the message then. Any other error keeps its message.
 */
export function jetStreamMessageOf(error: unknown): string {
  const message = messageOf(error);
  const answer = (error as Partial<NatsError> | undefined)?.api_error;
  const description = typeof answer?.description === 'string' ? answer.description : '';
  if (description === '' || message.includes(description)) return message;
  return `${description} (JetStream error ${answer?.err_code ?? answer?.code})`;
}
