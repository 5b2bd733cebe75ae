/**
 * Opening a KV bucket through a busy or leaderless JetStream cluster. nats.js opens a bucket with a stream info
 * request and, when the stream is missing, a stream create; both go to the cluster's meta leader when the stream
 * does not exist. On nats-server 2.9.10 the meta leader leaves the creates that lose a race for the same stream
 * unanswered (nodes of a deployment starting together), and while the meta leader's server is down nothing answers
 * them until a new leader is elected (4 to 8 s). So an open is retried as every other store operation is
 * (retry-unavailable.ts), within the node's `unavailableRetryMs`: after a timeout or no responders it waits until the
 * cluster answers, then reads the stream info again, and finds the bucket created by whichever create won (creating
 * a bucket that exists with the same settings changes nothing). Past the deadline it fails with
 * `StoreUnavailableError`, operation `open`.
 *
 * Opening asks nothing of the meta leader that it can do without: the bucket is opened without nats.js's account
 * check (a JetStream account info request, which only the meta leader answers), so a node starting on existing
 * buckets does not wait for an election at all.
 * @module
 */
import type { KV, KvOptions, KvStatus, NatsConnection } from 'nats';
import { BridgeError } from '../errors.js';
import { kvRetryScope } from './kv-bucket.js';
import { apiErrorCode } from './jetstream-api-error.js';
import { deadlineOf, isStreamNotFound, retryRead, unavailability } from './retry-unavailable.js';

/** JetStream's "stream name already in use with a different configuration": a create that lost a race. */
const STREAM_NAME_IN_USE = 10058;

/**
 * What to do after an open failed with `error`: read the stream info again at once (`reread`: another create won,
 * so the stream exists now, or it was not found yet where it was asked), wait for the cluster and try again
 * (`wait`), or fail (`undefined`). No responders means an outage only on a server that runs JetStream itself: on one
 * without (`jetStreamHere` false) it means no JetStream at all, which waiting would not change.
 */
export function openRetry(error: unknown, jetStreamHere: boolean): 'reread' | 'wait' | undefined {
  // "Stream not found" came once in CI with six nodes opening the same buckets at once on a three-server 2.9.10
  // cluster: the stream another node had just created was not yet found through the server asked. A bucket truly
  // missing is created by the read again.
  if (apiErrorCode(error) === STREAM_NAME_IN_USE || isStreamNotFound(error)) return 'reread';
  const unavailable = unavailability(error);
  if (unavailable === 'unreached' && apiErrorCode(error) === undefined && !jetStreamHere) return undefined;
  return unavailable === undefined ? undefined : 'wait';
}

/** A bucket as opened: its view, and its status (its stream's configuration) as read then. */
export interface OpenedView {
  readonly kv: KV;
  readonly status: KvStatus;
}

/**
 * Opens (creating with `options` when missing) the KV bucket `bucket` on `connection` and reads its status, waiting
 * for an unavailable cluster up to `retryMs` (see the module comment). Other failures reject with `failed(error)`; a
 * {@link BridgeError} that `failed` or the open throws (a refused setting, say) rejects as it is.
 * @throws {StoreUnavailableError} when the cluster did not answer within `retryMs`
 */
export async function openKvView(
  connection: NatsConnection,
  bucket: string,
  options: Partial<KvOptions>,
  retryMs: number,
  failed: (error: unknown) => BridgeError,
): Promise<OpenedView> {
  // No account check: see the module comment. A client object only; nothing is asked here.
  const js = connection.jetstream({ checkAPI: false });
  const scope = { ...(await kvRetryScope(connection, bucket, retryMs)), absentAnswers: true };
  const jetStreamHere = connection.info?.jetstream === true;
  const open = async (): Promise<OpenedView> => {
    for (let reread = false; ; reread = true) {
      try {
        const kv = await js.views.kv(bucket, options);
        return { kv, status: await kv.status() };
      } catch (error) {
        const next = openRetry(error, jetStreamHere);
        // Once: the stream that took the name is there for the next read, unless it went again at once.
        if (next === 'reread' && !reread) continue;
        if (next === 'wait') throw error;
        throw failed(error);
      }
    }
  };
  return retryRead(scope, { operation: 'open', key: bucket }, deadlineOf(scope), open, (error) =>
    error instanceof BridgeError ? error : failed(error),
  );
}
