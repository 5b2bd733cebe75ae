/**
 * Opening the consumer behind a bucket watch (`watchKv` in kv-watch.ts): where a first open starts, how long a
 * resume waits for its consumer, and what is read back from the consumer nats.js created.
 * @module
 */
import { ErrorCode, KvWatchInclude, type KvEntry, type QueuedIterator } from 'nats';
import { StoreUnavailableError, type BridgeError } from '../errors.js';
import type { WatchStart } from '../store/watch-start.js';
import { failedAt, unavailability } from './retry-unavailable.js';

/** The `kv.watch` key filter for a store prefix (`''` → every key). */
export function keyFilter(prefix: string): string {
  return prefix === '' ? '>' : `${prefix}>`;
}

/**
 * Failed opening attempts after which a reopening watch is reported as slow to come back: about a minute of
 * JetStream unavailable, whether its creations are refused at once (backing off to 2 s) or never answered (5 s each,
 * a few at a time). It goes on trying: JetStream may come back much later (a full disk freed, a quorum regained), with
 * no reconnect to resume the watch on, and a watch given up on left its node applying no other node's writes for good.
 */
export const SLOW_REOPEN_ATTEMPTS = 30;

/**
 * How long a resume waits for its consumer before it opens another alongside. After a server of the cluster dies,
 * JetStream still places some new consumers on it (a third of them with three servers, for over a minute, measured
 * on 2.9.10), and their creation is never answered: a resume must not wait out the API's 5 s for each. A healthy
 * cluster creates one within milliseconds; a slow one may answer after this, and is not given up on (see
 * {@link firstToOpen}).
 */
export const REOPEN_TIMEOUT_MS = 1000;

/**
 * For tests only: the longest backoff (ms) of {@link firstToOpen} between a failure and the next attempt, with none
 * under way. The report after {@link SLOW_REOPEN_ATTEMPTS} counts attempts, not time; a test of that report lowers
 * this to reach it in seconds rather than a minute, and puts it back (it applies to every opening in the process).
 * @default 2000
 */
export const openingBackoff = { maxMs: 2000 };

/** How {@link firstToOpen} goes about its attempts. */
export interface OpeningPlan {
  /** How many attempts may fail before it gives up (`Infinity`: it never does while wanted). */
  readonly attempts: number;
  /** Told once, with the last failure, when {@link SLOW_REOPEN_ATTEMPTS} attempts have failed and it goes on. */
  readonly slow?: (error: unknown) => void;
  /**
   * After how long without a consumer another attempt starts alongside those under way, up to
   * {@link MAX_ATTEMPTS_UNDER_WAY}; left out, one at a time.
   */
  readonly hedgeMs?: number;
  /** Whether a consumer is still wanted: once not, no attempt starts, and the result is `undefined`. */
  readonly wanted: () => boolean;
  /**
   * When (on the monotonic clock, `performance.now()`) no attempt starts any more: the last failure after it, with
   * none under way, rejects. @default never
   */
  readonly until?: number;
  /** Whether a failure is one to try again after; one that is not rejects at once. @default every failure */
  readonly retries?: (error: unknown) => boolean;
}

/**
 * Attempts under way at once. With three servers a third of creations land on a dead one: three at once all do
 * one time in 27, and a struggling cluster is not asked for more.
 */
export const MAX_ATTEMPTS_UNDER_WAY = 3;

/**
 * The first consumer any of a series of attempts opens. Each `hedgeMs` none has opened, another attempt starts
 * alongside those under way (one placed on a dead server is never answered, and a slow one may still be), up to
 * {@link MAX_ATTEMPTS_UNDER_WAY}; after a failure with none under way, the next waits a backoff up to 2 s. An attempt
 * that opens once another won is stopped. Rejects with the last failure once `attempts` failed (each one never
 * answered fails at the API's timeout, 5 s) or `until` passed with none under way, or at once on a closed connection
 * or a failure `retries` refuses.
 */
export function firstToOpen<T extends { stop(): void }>(
  attempt: () => Promise<T>,
  plan: OpeningPlan,
): Promise<T | undefined> {
  const atOnce = plan.hedgeMs === undefined ? 1 : MAX_ATTEMPTS_UNDER_WAY;
  return new Promise((resolve, reject) => {
    let failed = 0;
    let underWay = 0;
    let settled = false;
    let lastFailure: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const over = (): boolean => plan.until !== undefined && performance.now() >= plan.until;
    const settle = (finish: () => void): void => {
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const later = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(tick, ms);
      // A pending attempt or the connection keeps the process up; this timer alone must not.
      timer.unref();
    };
    /** Starts an attempt if there is room for one, and comes back a hedge later: no longer wanted, it is over. */
    function tick(): void {
      if (settled) return;
      if (!plan.wanted()) return settle(() => resolve(undefined));
      // Come back from a backoff past the deadline: nothing under way to wait for, and nothing more to start.
      if (over() && underWay === 0 && failed > 0) return settle(() => reject(lastFailure));
      if (underWay < atOnce && failed + underWay < plan.attempts && !over()) start();
      if (plan.hedgeMs !== undefined) later(plan.hedgeMs);
    }
    function start(): void {
      underWay += 1;
      attempt().then(
        (opened) => {
          underWay -= 1;
          if (settled) return opened.stop();
          settle(() => resolve(opened));
        },
        (error: unknown) => {
          underWay -= 1;
          failed += 1;
          lastFailure = error;
          if (settled) return;
          const given = failed >= plan.attempts || over();
          if (closedConnection(error) || plan.retries?.(error) === false || (underWay === 0 && given)) {
            return settle(() => reject(error));
          }
          if (failed === SLOW_REOPEN_ATTEMPTS) plan.slow?.(error);
          // Others under way: the hedges go on. None: the next attempt after a backoff, not past the deadline.
          const left = plan.until === undefined ? Infinity : Math.max(0, plan.until - performance.now());
          if (underWay === 0) later(Math.min(100 * 2 ** failed, openingBackoff.maxMs, left));
        },
      );
    }
    tick();
  });
}

/**
 * The stream sequence a new consumer starts after, from the consumer info nats.js keeps (its own `watch` reads
 * the same to count the initial entries); 0 when it cannot be read. For "updates only" it is the stream's last
 * sequence at creation: a resume from there skips nothing the watch was meant to see.
 */
export function startSequenceOf(iterator: QueuedIterator<KvEntry>): number {
  const sequence = consumerInfoOf(iterator)?.delivered?.stream_seq;
  return typeof sequence === 'number' ? sequence : 0;
}

/** What is read here of the consumer info nats.js keeps for a watch's consumer, as it was at creation. */
export interface CreatedConsumer {
  readonly delivered?: { readonly stream_seq?: unknown };
  readonly num_pending?: unknown;
}

export function consumerInfoOf(iterator: QueuedIterator<KvEntry>): CreatedConsumer | undefined {
  return (iterator as { _data?: { info?: { last?: CreatedConsumer } } })._data?.info?.last;
}

export const closedConnection = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === ErrorCode.ConnectionClosed;

/** The consumer options of a first open: where `start` says. */
export function firstOpen(start: WatchStart): { include: KvWatchInclude; resumeFromRevision?: number } {
  switch (start.kind) {
    case 'current':
      return { include: KvWatchInclude.LastValue };
    case 'live':
      return { include: KvWatchInclude.UpdatesOnly };
    case 'from':
      // The server starts at the stream's first message when this one is gone; when it is ahead, at the next
      // message, which `run` skips up to this one.
      return { include: KvWatchInclude.AllHistory, resumeFromRevision: start.revision };
  }
}

/** The bucket a watch is of, as the errors of its failed opens name it. */
export interface WatchedBucket {
  readonly name: string;
  /**
   * What JetStream lacks, when a failed open says it is missing rather than leaderless (`noJetStream` in
   * jetstream-refusal.ts); `undefined` otherwise.
   */
  readonly missing?: (error: unknown) => string | undefined;
  /**
   * The bucket's refusal of a watch of the keys `filter` matches (`jetStreamRefusal` in jetstream-refusal.ts: a
   * subject the NATS permissions refuse, a JetStream limit reached); `undefined` for any other failure.
   */
  readonly refused?: (error: unknown, filter: string) => BridgeError | undefined;
}

/** What a watch of the keys under `prefix` is called in its errors; `reopen`: a reopen of it. */
const watchOf = (prefix: string, reopen: boolean): string =>
  `${reopen ? 'a reopen of the watch' : 'a watch'} of ${prefix === '' ? 'every key' : `the keys under '${prefix}'`}`;

/**
 * The `store_unavailable` error of a watch of the keys under `prefix` in `bucket` whose consumer could not be opened
 * for `waitedMs`, with the last failure `error` as cause: a first open gave up, a reopen is `stillTrying`. Without a
 * `reason` from {@link WatchedBucket.missing}, it says no JetStream leader answered: only for a failure that
 * `unavailability` (retry-unavailable.ts) takes for one.
 */
export function watchUnavailable(
  bucket: WatchedBucket,
  prefix: string,
  waitedMs: number,
  error: unknown,
  stillTrying: boolean,
): StoreUnavailableError {
  const reason = bucket.missing?.(error);
  return new StoreUnavailableError(bucket.name, prefix, 'watch', Math.round(waitedMs), 'not_applied', {
    cause: error,
    what: watchOf(prefix, stillTrying),
    ...(reason === undefined ? {} : { reason }),
    ...(stillTrying ? { stillTrying } : {}),
  });
}

/**
 * The error a reopen of a watch of the keys under `prefix` in `bucket` is told slow with, after `waitedMs` of failed
 * attempts, the last one `error`: what JetStream answered. JetStream missing, or no leader answering, is the
 * `store_unavailable` of {@link watchUnavailable}; a refusal of the deployment's is the bucket's (`refused`); anything
 * else, such as "stream not found" (the bucket gone: a server back with JetStream but not its store), is the
 * `InternalError` every other operation on a bucket gone fails with, naming the bucket, with JetStream's words.
 */
export function reopenFailure(bucket: WatchedBucket, prefix: string, waitedMs: number, error: unknown): Error {
  if (bucket.missing?.(error) !== undefined || unavailability(error) !== undefined) {
    return watchUnavailable(bucket, prefix, waitedMs, error, true);
  }
  return (
    bucket.refused?.(error, keyFilter(prefix)) ??
    failedAt(`${watchOf(prefix, true)} in KV bucket '${bucket.name}'`, error, {
      bucket: bucket.name,
      key: prefix,
      operation: 'watch',
    })
  );
}
