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
 * How long a resume waits for its consumer before trying again. After a server of the cluster dies, JetStream
 * still places some new consumers on it (a third of them with three servers, for over a minute, measured on
 * 2.9.10), and their creation is never answered: a resume must not wait out the API's 5 s for each.
 * A healthy cluster creates one within milliseconds; one that answers after this is slow rather than gone, and
 * the watch's later resumes wait for the API's own timeout.
 */
export const REOPEN_TIMEOUT_MS = 1000;

/** A resume's consumer creation given up on (see {@link REOPEN_TIMEOUT_MS}). */
export class ConsumerNotCreated extends Error {}

/** `opening`, or a rejection after `ms`; a consumer that opens after that is stopped at once and `onLate` told. */
export function openedWithin(
  opening: Promise<QueuedIterator<KvEntry>>,
  ms: number,
  onLate: () => void,
): Promise<QueuedIterator<KvEntry>> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new ConsumerNotCreated(`the watch's consumer was not created within ${ms} ms`));
    }, ms);
    opening.then(
      (it) => {
        clearTimeout(timer);
        if (!late) return resolve(it);
        it.stop();
        onLate();
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
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
