/**
 * Idle expiry across the nodes of a NATS system. No node alone can tell that a session is idle (it may be in use
 * on another), so the nodes keep the time of its last use in its record, coarsely, and any node expires a session
 * whose record says it was not used for the TTL.
 *
 * - **Stamping.** Every quarter of the TTL (`P`), a node rewrites the `activeAt` of each session used on it since
 *   it last did (reads count, as they do for an embedded session's idle clock; watches do not), compare-and-set on
 *   the record's revision. So a session in use costs each node using it one KV write per `P`, not one per request,
 *   and the record is at most `P` behind its last use. A stamp that finds the record gone (or another life of the
 *   id) tells the node, which ends its processes of it: how a node that missed the deletion's message learns of it.
 * - **Scanning.** Every `P`, a node reads the records oldest-written first (the bucket keeps one write per key, so
 *   its stream is in that order) and expires each one whose `activeAt` is at least `TTL + P` old (the `P` covers
 *   a use not stamped yet), stopping at the first that is not. Its removal is compare-and-set on the revision
 *   read: a stamp in between (the session was used) cancels it. A scan reads one record more than it expires, so
 *   it costs nothing per idle-but-alive session, and sessions never loaded on any node since a restart expire too.
 *
 * A session therefore expires between `TTL + P` and `TTL + 3P` after its last use (1.25 to 1.75 × the TTL), given
 * node clocks that agree to well within `P`. Expiring is the deletion of session-removal.ts, with reason
 * `expired`: handles learn `session_expired`, watchers are dropped, the storage is reclaimed.
 * @module
 */
import type { SessionRemoval } from './session-removal.js';
import { activeAtOf, incarnationOf, type ReadRecord, type SessionDirectory } from './session-directory.js';

/** A session used on this node, as the runtime reports it at each stamping. */
export interface SessionUse {
  readonly sessionId: string;
  /** When it was last used here (ms since epoch). */
  readonly lastUsed: number;
  /** The life of the id it was used in (the record's incarnation its process loaded). */
  readonly incarnation: string;
}

/** What expiry needs from the node. */
export interface SessionExpiryDeps {
  readonly directory: SessionDirectory;
  readonly removal: SessionRemoval;
  /** The session TTL. */
  readonly ttlMs: number;
  /** The sessions used on this node since the last call (those still running, and those that ended meanwhile). */
  uses(): Iterable<SessionUse>;
  /** The session's life `incarnation` is gone (deleted or expired, this node was not told): end it here. */
  lost(sessionId: string, incarnation: string): void;
  readonly report: (error: unknown, where: string) => void;
}

/** Running expiry. */
export interface SessionExpiry {
  /**
   * Reads the record of every session used here at once (the node was cut off and may have missed a deletion's
   * message): one found gone ends here.
   */
  recheck(): void;
  /** Stops, after noting the last uses of the sessions used here one more time (they still count elsewhere). */
  stop(): Promise<void>;
}

/** Records expired per scan at most; a longer backlog goes on at the next scan. */
const SCAN_BATCH = 256;
/** Expiries (and stamps) run at once at most. */
const PARALLEL = 8;

/** Runs `work` on each item, at most {@link PARALLEL} at a time. */
async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

/**
 * Starts stamping and scanning every quarter of the TTL; the timer never keeps a Node process alive.
 * @example
 * const expiry = startSessionExpiry({ directory, removal, ttlMs: 3_600_000, uses, lost, report });
 */
export function startSessionExpiry(deps: SessionExpiryDeps): SessionExpiry {
  const { directory } = deps;
  const period = Math.max(5, Math.floor(deps.ttlMs / 4));
  /** Per session used here, its record as this node last read or wrote it. */
  const stamped = new Map<string, ReadRecord>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const stamp = async (use: SessionUse): Promise<void> => {
    const known = stamped.get(use.sessionId);
    const current =
      known && incarnationOf(known.record) === use.incarnation ? known : await directory.read(use.sessionId);
    const written =
      current && incarnationOf(current.record) === use.incarnation
        ? await directory.stamp(current, use.lastUsed)
        : undefined;
    if (written) return void stamped.set(use.sessionId, written);
    stamped.delete(use.sessionId);
    deps.lost(use.sessionId, use.incarnation);
  };

  const stampAll = async (): Promise<void> => {
    const due: SessionUse[] = [];
    const used = new Set<string>();
    for (const use of deps.uses()) {
      used.add(use.sessionId);
      const known = stamped.get(use.sessionId);
      if (!known || activeAtOf(known.record) < use.lastUsed) due.push(use);
    }
    // Only sessions still used here are kept: a node's memory follows its running sessions.
    for (const sessionId of stamped.keys()) if (!used.has(sessionId)) stamped.delete(sessionId);
    await eachLimited(due, (use) =>
      stamp(use).catch((error: unknown) => deps.report(error, `stamping session ${use.sessionId}`)),
    );
  };

  const scan = async (): Promise<void> => {
    const now = Date.now();
    const expired: ReadRecord[] = [];
    let sequence = 1;
    while (expired.length < SCAN_BATCH) {
      const next = await directory.oldest(sequence);
      if (!next) break;
      sequence = next.sequence + 1;
      const age = now - activeAtOf(next.record);
      // Not a time: a record this version did not write. Passed by, not expired, and no reason to stop.
      if (Number.isNaN(age)) continue;
      // Later records were written later: none of them is older than this one by more than `period`.
      if (age < deps.ttlMs + period) break;
      expired.push(next);
    }
    await eachLimited(expired, (found) =>
      deps.removal.expire(found).catch((error: unknown) => {
        deps.report(error, `expiring session ${found.record.sessionId}`);
      }),
    );
  };

  const tick = (): Promise<void> => {
    if (running || stopped) return running ?? Promise.resolve();
    running = (async () => {
      try {
        await stampAll();
        if (!stopped) await scan();
      } catch (error) {
        deps.report(error, 'session expiry');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => void tick(), period);
  timer.unref();
  return {
    recheck() {
      stamped.clear();
      void tick();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      await stampAll().catch((error: unknown) => deps.report(error, 'session expiry'));
    },
  };
}
