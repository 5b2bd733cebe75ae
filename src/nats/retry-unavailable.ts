/**
 * Riding through a JetStream leader election. While a NATS cluster elects a new leader for a bucket's stream (4 to
 * 8 s measured on nats-server 2.9.10 after its leader's server was killed, up to 15 s reported), nats.js 2.29
 * reports two failures, and only these:
 *
 * - `503` no responders on a publish: no server listened on the stream's subjects, so the message went nowhere.
 *   Certainly not stored. (A JetStream API answer `10008`, "JetStream system temporarily unavailable", says the
 *   same in words and is taken alike; it was not seen here.)
 * - `TIMEOUT` on every request of the stream's API (message gets, stream info: every server listens there, only
 *   the leader answers) and on a publish that was in flight when the leader died. A read is safe to ask again; a
 *   write may have been stored (see `kv-bucket.ts` and `kv-write-fate.ts` for how it is retried without applying
 *   twice).
 *
 * After such a failure the operation waits until the stream answers a stream info request (a probe with a 1 s
 * timeout, so the new leader is noticed within a second, not at the end of another 5 s request) and runs again,
 * until the operation's deadline; then it fails with {@link StoreUnavailableError}. A probe that gets any other
 * answer ends the waiting: the operation fails with its own error, or with `stream not found` when that is the
 * answer (the bucket was deleted).
 * @module
 */
import { NatsError, type JetStreamManager } from 'nats';
import { InternalError, StoreUnavailableError, ValidationError, type StoreUnavailableOutcome } from '../errors.js';
import { jetStreamMessageOf, noJetStream } from './jetstream-refusal.js';
import { show } from '../variables/failure.js';

/** How long a store operation waits for its bucket's stream to answer again, by default. */
export const DEFAULT_UNAVAILABLE_RETRY_MS = 15_000;

/** A probe gets this long to be answered; a leader answers on loopback in well under a millisecond. */
export const PROBE_TIMEOUT_MS = 1000;

/** JetStream's "JetStream system temporarily unavailable" (HTTP-like code 503). */
const CLUSTER_NOT_AVAILABLE = 10008;

/** JetStream's "stream not found". */
const STREAM_NOT_FOUND = 10059;

/** How a request failed for want of a stream leader: it reached none (`unreached`), or got no answer. */
export type Unavailability = 'unreached' | 'unanswered';

/** Whether a library error means no stream leader served the request; `undefined` for any other failure. */
export function unavailability(error: unknown): Unavailability | undefined {
  if (!(error instanceof NatsError)) return undefined;
  // An API answer came from a server: only the one that says it is temporarily unavailable counts.
  if (error.api_error) return error.api_error.err_code === CLUSTER_NOT_AVAILABLE ? 'unreached' : undefined;
  if (error.code === '503') return 'unreached';
  if (error.code === 'TIMEOUT') return 'unanswered';
  return undefined;
}

/** Whether a library error is JetStream's answer that the stream does not exist. */
export const isStreamNotFound = (error: unknown): boolean =>
  error instanceof NatsError && error.api_error?.err_code === STREAM_NOT_FOUND;

/** Throws a {@link ValidationError} unless `value` is a whole number of milliseconds, 0 or more. */
export function assertUnavailableRetryMs(value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    // Shown by `show`: a string '500' must not read as the number it is not.
    throw new ValidationError(
      `unavailableRetryMs must be a whole number of milliseconds, 0 or more, got ${show(value)}`,
      { details: { option: 'unavailableRetryMs', value } },
    );
  }
}

/** One bucket's side of the retries: what the error names, where the probe goes, and the bound. */
export interface RetryScope {
  /** The bucket, named by the error. */
  readonly bucket: string;
  /** Its stream, which the probe asks about. */
  readonly stream: string;
  /** A manager whose requests time out after {@link PROBE_TIMEOUT_MS}. */
  readonly probe: JetStreamManager;
  /** How long one store operation may wait for the stream, in ms. */
  readonly retryMs: number;
  /**
   * Whether the server the connection is on runs JetStream, as its INFO says: when it does not, no responders is no
   * election but JetStream missing, and the error says so. @default a server that runs it
   */
  readonly jetStreamHere?: () => boolean;
  /**
   * Whether a probe told "stream not found" has been answered. Only while a bucket is opened: its stream may not
   * exist yet, and only the meta leader says so (without one, servers answer 10008 or nothing), so the answer
   * means the cluster serves again. For any other operation it means the bucket was deleted. @default false
   */
  readonly absentAnswers?: boolean;
}

/**
 * The time until which an operation starting now may wait, on the monotonic clock (`performance.now()`), as every
 * deadline of these waits is: a system clock stepped back an hour would otherwise have an operation retry for an hour,
 * and one stepped forward fail it at once.
 */
export const deadlineOf = (scope: RetryScope): number => performance.now() + scope.retryMs;

/** Resolves after `ms`: the wait between two tries of something the server may answer differently later. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * {@link pause} for a node's own background reads (a watch's gap, a bucket's revision after a reconnect): its timer
 * does not keep the process alive, so a process whose node was never stopped can still exit.
 */
export const backgroundPause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Waits until the bucket's stream answers a probe; resolves `false` when `until` passes first. Rejects with the
 * probe's error when it is not an unavailability: the stream is gone, and waiting would not bring it back.
 *
 * When `until` has passed already, one probe is made all the same, only to find a stream gone, unless the scope
 * waits for nothing (`retryMs` 0, which fails at once): a read of a deleted stream gets no answer until its own 5 s
 * timeout, past a shorter `unavailableRetryMs`, and without a probe it failed as an election ("no JetStream leader
 * answering"), where the probe says the stream is gone. It waits at most the probe's timeout, and only when no
 * leader answers; the stream answering then resolves `false` all the same, the deadline being past.
 */
export async function streamAnswers(scope: RetryScope, until: number): Promise<boolean> {
  const late = performance.now() >= until;
  if (late && scope.retryMs === 0) return false;
  for (let attempt = 0; attempt === 0 || performance.now() < until; attempt += 1) {
    try {
      await scope.probe.streams.info(scope.stream);
      return !late;
    } catch (error) {
      if (scope.absentAnswers === true && isStreamNotFound(error)) return !late;
      if (unavailability(error) === undefined) throw error;
    }
    // A probe that timed out has waited already; one refused at once (no responders) backs off up to 0.5 s.
    await pause(Math.min(50 * 2 ** attempt, 500, Math.max(0, until - performance.now())));
  }
  return false;
}

/** What an operation is, for the error it may end with: `get` of `s1.x`, say. */
export interface RetriedOperation {
  readonly operation: string;
  readonly key: string;
}

/** The error of an operation that waited until its deadline `until` (see {@link deadlineOf}). */
export function unavailableError(
  scope: RetryScope,
  op: RetriedOperation,
  until: number,
  outcome: StoreUnavailableOutcome,
  cause: unknown,
): StoreUnavailableError {
  const waitedMs = Math.max(0, Math.round(performance.now() - (until - scope.retryMs)));
  // A server restarted without JetStream answers as a cluster with no leader does (no responders): say which it is.
  const reason = noJetStream(cause, scope.jetStreamHere?.() ?? true);
  return new StoreUnavailableError(scope.bucket, op.key, op.operation, waitedMs, outcome, {
    cause,
    ...(reason === undefined ? {} : { reason }),
  });
}

/**
 * After `error`, an unavailability of the stream: waits until the stream answers again. Rejects with
 * `failed(error)` when a probe finds the stream gone, and with a {@link StoreUnavailableError} (`outcome`) when
 * `until` passes first.
 */
export async function waitForStream(
  scope: RetryScope,
  op: RetriedOperation,
  until: number,
  error: unknown,
  failed: (error: unknown) => Error,
  outcome: StoreUnavailableOutcome,
): Promise<void> {
  let back: boolean;
  try {
    back = await streamAnswers(scope, until);
  } catch (probed) {
    // The stream is gone (the bucket deleted under the node): its "stream not found" says so, where the
    // operation's own error is often a bare "503" (its publish or direct get found no stream listening).
    throw failed(isStreamNotFound(probed) ? probed : error);
  }
  if (!back) throw unavailableError(scope, op, until, outcome, error);
}

/**
 * Runs `read` (which must change nothing: a get, a stream info) and again each time it fails for want of a stream
 * leader, once the stream answers, until `until`. Other failures, and a probe finding the stream gone, reject
 * with `failed(error)` of the read's own error; the deadline with {@link StoreUnavailableError}, whose `outcome` is
 * that of the write the read is for (`unknown` while finding out whether an unanswered write was stored).
 */
export async function retryRead<T>(
  scope: RetryScope,
  op: RetriedOperation,
  until: number,
  read: () => Promise<T>,
  failed: (error: unknown) => Error,
  outcome: StoreUnavailableOutcome = 'not_applied',
): Promise<T> {
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (unavailability(error) === undefined) throw failed(error);
      await waitForStream(scope, op, until, error, failed, outcome);
    }
  }
}

/** An `InternalError` saying what failed (`what`, e.g. "compacting session 's1' in bucket 'b'"), around its cause. */
export function failedAt(what: string, error: unknown, details: Record<string, unknown>): InternalError {
  const message = jetStreamMessageOf(error);
  return new InternalError(`${what} failed: ${message}`, { cause: error, details });
}
