/**
 * The JetStream server's clock as idle expiry knows it (server-clock.ts), fed from the sessions bucket, and made exact
 * before a stamp that needs it so: by a read of a write of this node's own, else by writing a record again and reading
 * that back (see session-expiry.ts on why a use is told only on an exact clock).
 * @module
 */
import type { SessionDirectory } from './session-directory.js';
import { createServerClock, type ServerClock } from './server-clock.js';
import type { ReadRecord } from './session-record.js';

/** The server's clock as expiry reads it: the estimate itself, and how it is fed and made exact. */
export interface ExpiryClock extends Pick<ServerClock, 'at' | 'now' | 'exact'> {
  /** Takes the bucket's last write in as a bound of the server's clock. */
  sample(): Promise<void>;
  /** The server's time now, sampled first when this node has no bound of it yet (the bucket holds the record used). */
  serverNow(): Promise<number>;
  /**
   * `current`, once this node knows the server's clock exactly: at once when it does; after reading back a write of
   * its own it has not read yet (a session it opened), when there is one; else after writing the record again (its
   * last use kept) and reading that write back; `undefined` when the record is gone. Until then the
   * estimate lags the server by as long as nobody wrote the bucket before this node looked (on a quiet bucket, up to a
   * TTL and more), and a use told with it looks that much older than it was: the record's last use could pass for
   * later than the use, the use go unstamped, and a scan expire the session (an acknowledged write with it) sooner
   * than `TTL + period` after it. The write also moves the record's revision, so a removal under way fails.
   *
   * One such write makes the clock exact for every stamp: one that comes while another's is under way waits for it,
   * and writes its own record only if the clock is still not exact (that record gone, or the write not read back,
   * another write of the key coming first). Each writing its own, the first uses on a node cost a write more each
   * (12 sessions written at once: 24 writes, not 13); and a waiter writes its own after one failed write, not after
   * each of the waiters before it, so an outage costs it one wait, not one per stamp under way.
   */
  exactFor(current: ReadRecord): Promise<ReadRecord | undefined>;
}

/**
 * The clock of a node's expiry over `directory`, for a TTL of `ttlMs` (its bounds' horizon) and stamps every `period`.
 * @example
 * const clock = createExpiryClock(directory, 3_600_000, 900_000);
 * const now = await clock.serverNow();
 */
export function createExpiryClock(directory: SessionDirectory, ttlMs: number, period: number): ExpiryClock {
  const clock = createServerClock(ttlMs);
  const sampleClock = async (): Promise<void> => {
    const sample = await directory.serverTime();
    if (sample) clock.observe(sample);
  };
  const serverNow = async (): Promise<number> => {
    if (clock.now() === undefined) await sampleClock();
    // Still none: the bucket holds nothing, so there is no record to judge; the wall clock is as good as any.
    return clock.now() ?? Date.now();
  };

  /** The write and read-back under way that makes the clock exact (see `exactFor`), until it settles. */
  let makingExact: Promise<void> | undefined;
  const exactFor = async (current: ReadRecord): Promise<ReadRecord | undefined> => {
    if (!clock.exact() && makingExact) await makingExact;
    if (clock.exact()) return current;
    const rewriting = (async () => {
      // A write of this node's own not read back yet (the open of a session, say) makes it exact with a read alone.
      if (directory.ownWriteUnread()) {
        await sampleClock();
        if (clock.exact()) return current;
      }
      const written = await directory.rewrite(current, period);
      if (written) await sampleClock();
      return written;
    })();
    const settled: Promise<void> = rewriting
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        if (makingExact === settled) makingExact = undefined;
      });
    makingExact = settled;
    return rewriting;
  };

  return { at: clock.at, now: clock.now, exact: clock.exact, sample: sampleClock, serverNow, exactFor };
}
