/**
 * Opening the consumer behind a bucket watch (`watchKv` in kv-watch.ts): where a first open starts, how long a
 * resume waits for its consumer, and what is read back from the consumer nats.js created.
 * @module
 */
import { ErrorCode, KvWatchInclude, type KvEntry, type QueuedIterator } from 'nats';
import type { WatchStart } from '../store/watch-start.js';

/** The `kv.watch` key filter for a store prefix (`''` → every key). */
export function keyFilter(prefix: string): string {
  return prefix === '' ? '>' : `${prefix}>`;
}

/** Opening attempts of a resumed watch (backing off to 2 s): about a minute for JetStream to come back. */
export const RESUME_ATTEMPTS = 30;

/**
 * How long a resume waits for its consumer before it opens another alongside. After a server of the cluster dies,
 * JetStream still places some new consumers on it (a third of them with three servers, for over a minute, measured
 * on 2.9.10), and their creation is never answered: a resume must not wait out the API's 5 s for each. A healthy
 * cluster creates one within milliseconds; a slow one may answer after this, and is not given up on (see
 * {@link firstToOpen}).
 */
export const REOPEN_TIMEOUT_MS = 1000;

/** How {@link firstToOpen} goes about its attempts. */
export interface OpeningPlan {
  /** How many attempts at most. */
  readonly attempts: number;
  /** After how long without a consumer another attempt starts alongside those under way; left out, never. */
  readonly hedgeMs?: number;
  /** Whether a consumer is still wanted: once not, no attempt starts, and the result is `undefined`. */
  readonly wanted: () => boolean;
}

/**
 * The first consumer any of a series of attempts opens. Another attempt starts alongside those under way each
 * `hedgeMs` none has opened (one placed on a dead server is never answered, and a slow one may still be), and after
 * an attempt fails with none under way, once a backoff up to 2 s is over. An attempt that opens once another won is
 * stopped. Rejects with the last failure once every attempt failed, or at once on a closed connection.
 */
export function firstToOpen<T extends { stop(): void }>(
  attempt: () => Promise<T>,
  plan: OpeningPlan,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let underWay = 0;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (finish: () => void): void => {
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const later = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(launch, ms);
      // A pending attempt or the connection keeps the process up; this timer alone must not.
      timer.unref();
    };
    function launch(): void {
      if (settled) return;
      if (!plan.wanted()) return settle(() => resolve(undefined));
      if (started >= plan.attempts) return;
      started += 1;
      underWay += 1;
      const index = started;
      if (plan.hedgeMs !== undefined && started < plan.attempts) later(plan.hedgeMs);
      attempt().then(
        (opened) => {
          underWay -= 1;
          if (settled) return opened.stop();
          settle(() => resolve(opened));
        },
        (error: unknown) => {
          underWay -= 1;
          if (settled) return;
          if (closedConnection(error) || (underWay === 0 && started >= plan.attempts)) {
            return settle(() => reject(error));
          }
          // Others under way: the next hedge starts another in time.
          if (underWay === 0) later(Math.min(100 * 2 ** index, 2000));
        },
      );
    }
    launch();
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
