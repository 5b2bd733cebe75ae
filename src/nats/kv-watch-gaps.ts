/**
 * Filling a gap in what a bucket watch's consumer sent (see kv-watch.ts): the messages of its keys that the stream
 * still holds between the last entry the consumer sent and the one it sends now are messages the server moved it
 * past. They are read one by one and handed over ahead of it, as the consumer would have; the consumer itself goes on
 * from where it is. A wider gap gets a new consumer instead: a few reads cost the server less than a consumer, many
 * reads more.
 * @module
 */
import type { KvEntry } from 'nats';
import { closedConnection } from './kv-watch-consumer.js';

/** Most messages a gap is filled with by reads; a gap holding more gets a new consumer. */
export const GAP_READ_MAX = 32;

/** The stream's first message of the watch's keys after `after`; `undefined` when it holds none. */
export type NextStoredEntry = (after: number) => Promise<KvEntry | undefined>;

/** The wait before a read the stream did not answer is sent again: from this, doubling, to {@link RETRY_MAX_MS}. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The messages the stream holds after `after` and before `before`, in order: none when the gap is messages removed
 * since they were written (nothing was skipped). `undefined` when it holds more than {@link GAP_READ_MAX}, once
 * `wanted()` says the watch no longer waits for them, or once the connection is closed (a new consumer then fails as
 * it should). A read the stream does not answer is sent again, backing off, while wanted: the entries behind the gap
 * wait for it (no new consumer could be created meanwhile either).
 */
export async function readGap(
  after: number,
  before: number,
  next: NextStoredEntry,
  wanted: () => boolean,
): Promise<KvEntry[] | undefined> {
  const found: KvEntry[] = [];
  let from = after;
  let retryMs = RETRY_FIRST_MS;
  while (wanted()) {
    let entry: KvEntry | undefined;
    try {
      entry = await next(from);
    } catch (error) {
      if (closedConnection(error)) return undefined;
      await pause(retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      continue;
    }
    if (entry === undefined || entry.revision >= before) return found;
    if (found.length === GAP_READ_MAX) return undefined;
    found.push(entry);
    from = entry.revision;
    retryMs = RETRY_FIRST_MS;
  }
  return undefined;
}
