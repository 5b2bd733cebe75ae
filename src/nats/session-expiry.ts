/**
 * Idle expiry across the nodes of a NATS system. No node alone can tell that a session is idle (it may be in use
 * on another), so the nodes keep the time of its last use in its record, coarsely, and any node expires a session
 * whose record says it was not used for the TTL.
 *
 * - **The clock.** Ages are judged on the JetStream server's clock, the one clock all nodes share, as each node
 *   estimates it from the bucket's writes (server-clock.ts), never on a node's wall clock: a node whose clock is off,
 *   or stepped (NTP, a resumed VM), neither expires sessions used elsewhere nor keeps idle ones. A node tells its uses
 *   on the monotonic clock and turns them into server time as it stamps them, once its estimate is exact: it reads a
 *   write of its own back (a session it opened), and a node that never wrote the bucket first writes the record again,
 *   its last use kept (its estimate until then lags by as long as the bucket was quiet, and a use told with it would
 *   look older than it was). A record's last use is its `activeAt` held within `P` before the server's time of its
 *   write ({@link lastUseOf}), whoever wrote it.
 * - **Stamping.** Every quarter of the TTL (`P`; at most 2^31-1 ms, what a timer waits), a node rewrites the `activeAt`
 *   of each session used on it since it last did (reads count, as they do for an embedded session's idle clock; watches
 *   do not), compare-and-set on the record's revision. So a session in use costs each node using it one KV write per
 *   `P`, not one per request, and the record is at most `P` behind its last use. A stamp that finds the record gone (or
 *   another life of the id) tells the node, which ends its processes of it: how a node that missed the deletion's
 *   message learns of it; as expired when the last use the node knows of that life is a TTL old, else as deleted.
 * - **Stamping before a use.** A write (or a wake) on a node whose last sight of the record is older than
 *   `TTL - 2P` waits for a stamp of it first ({@link SessionExpiry.fresh}, which argues why no use is then lost); one
 *   on a node that does not know the server's clock exactly yet waits for that (above), then for a stamp only if the
 *   record proves that old.
 * - **Scanning.** Every `P`, a node reads the records oldest-written first (the bucket keeps one write per key, so
 *   its stream is in that order) and expires each one whose last use is at least `TTL + P` old (the `P` covers
 *   a use not stamped yet), stopping at the first that is not. Its removal is compare-and-set on the revision
 *   read: a stamp in between (the session was used) cancels it. A scan reads one record more than it expires, so
 *   it costs nothing per idle-but-alive session, and sessions never loaded on any node since a restart expire too.
 *   It also sweeps the tombstones of removals at least `2P` old (see session-removal.ts). A scan that fills its
 *   batch goes on at once: a backlog drains at {@link PARALLEL} removals at a time (some 50 a second per node at
 *   150 ms each), not one batch per `P`.
 *
 * A session therefore expires between `TTL + P` and `TTL + 3P` after its last use (1.25 to 1.75 × a TTL up to about 99
 * days, when `P` is a quarter of it), whatever the nodes' wall clocks say. Expiring is the deletion of
 * session-removal.ts, with reason `expired`: handles learn `session_expired`, watchers are dropped, the storage is
 * reclaimed.
 * @module
 */
import { InternalError, SessionError, StoreUnavailableError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { connectionBack, type ConnectionLink } from './connection-link.js';
import type { SessionEndReason } from './session-control.js';
import type { SessionRemoval } from './session-removal.js';
import type { SessionDirectory } from './session-directory.js';
import { incarnationOf, lastUseOf, type ReadRecord } from './session-record.js';
import { createStopGrace, type StopGrace } from './stop-grace.js';
import { createExpiryClock } from './expiry-clock.js';

/** A session used on this node, as the runtime reports it at each stamping. */
export interface SessionUse {
  readonly sessionId: string;
  /** When it was last used here, on the monotonic clock (`monotonicNow()`: no step of the system clock moves it). */
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
  lost(sessionId: string, incarnation: string, reason: SessionEndReason): void;
  readonly report: (error: unknown, where: string) => void;
  /**
   * The node's connection. While it is down, stamps and removals wait for the next round instead of each waiting out
   * the bucket's unavailability in turn (15 s apiece, {@link PARALLEL} at a time: a stop of a node that had used
   * a hundred sessions took minutes), and a stop waits for it a bounded time (see {@link SessionExpiry.stop}).
   */
  readonly link?: ConnectionLink;
}

/** Running expiry. */
export interface SessionExpiry {
  /** The record of a session this node loaded, as the load read it: what {@link SessionExpiry.fresh} knows. */
  note(found: ReadRecord): void;
  /**
   * Before a use of the session's life `incarnation` is served here: `undefined` when this node knows its record
   * was stamped recently enough (no I/O, the usual case); otherwise a stamp of the record now, compare-and-set (or,
   * the server's clock first made exact, none when that shows the record recent enough), which the use must wait
   * for. Rejects with `SessionError` (`session_expired` or `session_not_found`) when the record is gone: the use must
   * not be served.
   */
  fresh(sessionId: string, incarnation: string): Promise<void> | undefined;
  /**
   * Reads the record of every session used here at once (the node was cut off and may have missed a deletion's
   * message): one found gone ends here.
   */
  recheck(): void;
  /**
   * Stops, after noting the last uses of the sessions used here one more time (they still count elsewhere). While
   * the connection is down, it waits for it until `grace` runs out: the node's stop's one grace for its connection,
   * which its held replies may have begun (see stop-grace.ts); else from now. The uses it could not note are
   * reported, once.
   */
  stop(grace?: StopGrace): Promise<void>;
}

/** Removals per round of a scan at most; a full round is followed by the next at once. */
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
  // At most what a timer can wait: a TTL of Infinity (or of years) still scans, and never finds a session idle that
  // long; setInterval would fire at once for more.
  const period = Math.min(MAX_TIMEOUT_MS, Math.max(5, Math.floor(deps.ttlMs / 4)));
  /** Per session used here, its record as this node last read or wrote it. */
  const stamped = new Map<string, ReadRecord>();
  let stopped = false;
  /** Tombstones younger than this are left to the removal under way (see {@link SessionRemoval.sweep}). */
  const grace = 2 * period;
  /**
   * A use is served without a stamp first only while the record this node knows is younger than this. Why no use
   * is then lost to expiry: all times here are on the server's clock, and every node judges a record's last use the
   * same way ({@link lastUseOf}), this node no later than a scan does (a stamp it wrote counts from its `activeAt`,
   * which is at or below the clamp a scan applies). Each node's estimate of the server's clock lags it, never leads
   * it, and this node serves a use unstamped only once its estimate is exact (to a round trip: it read back a write
   * of its own). So at a use at server time `u` served unstamped, the last use a scan sees is at least
   * `u - freshFor`, less that round trip, and the scan removes the record only once its estimate, no later than the
   * server's clock, says that plus `TTL + period`: at least `u + 2 × period`. The use is stamped at this node's next
   * stamping, within `period`, which leaves `period` for the stamping's own time. The stamp moves the revision, so a
   * removal at the revision the scan read fails (compare-and-set), and the session lives on. A use served after a
   * stamp first is the same case with the last use at `u` less a round trip: that stamp, too, waits for an exact
   * estimate (`exactFor`). And if the removal won, the stamp finds the record gone and the use is refused: it never
   * landed.
   */
  const freshFor = deps.ttlMs - 2 * period;
  const stampsBeforeUse = new Map<string, Promise<void>>();
  const clock = createExpiryClock(directory, deps.ttlMs, period);
  /**
   * A use's time on the server's clock; `undefined` while this node's estimate is not exact (see `exactFor`), and not
   * kept then: turned with a lagging estimate, a use would look older than it was, for good. Turned once per use: a
   * better bound of the clock later would otherwise move it, and each idle session used here would be stamped again
   * for nothing.
   */
  const usedAt = new Map<string, { readonly lastUsed: number; readonly at: number }>();
  const serverTimeOf = (use: SessionUse): number | undefined => {
    const known = usedAt.get(use.sessionId);
    if (known?.lastUsed === use.lastUsed) return known.at;
    if (!clock.exact()) return undefined;
    const at = clock.at(use.lastUsed);
    if (at !== undefined) usedAt.set(use.sessionId, { lastUsed: use.lastUsed, at });
    return at;
  };
  /**
   * Uses a round could not stamp, the connection down (or the clock not exact yet): the next round stamps them (`uses()`
   * gives each once).
   */
  const unstamped = new Map<string, SessionUse>();
  const down = (): boolean => deps.link?.down === true;

  /**
   * Why the session's life `incarnation`, used here, is gone, this node not told: idle for the TTL by the last use this
   * node knows of it (of `found`, the record it last saw, when that is of this life; and its own last use here, as
   * turned into server time), most likely `expired` (so too when it knows none); else `deleted`.
   */
  const goneAs = async (
    sessionId: string,
    incarnation: string,
    found: ReadRecord | undefined,
  ): Promise<SessionEndReason> => {
    const known = [usedAt.get(sessionId)?.at];
    if (found && incarnationOf(found.record) === incarnation) known.push(lastUseOf(found, period));
    const lastUse = Math.max(...known.filter((at) => at !== undefined));
    return (await clock.serverNow()) - lastUse < deps.ttlMs ? 'deleted' : 'expired';
  };

  /** Stamps the record now, on the server's clock known exactly, before a use is served (see `freshFor`). */
  const stampBeforeUse = async (sessionId: string, incarnation: string): Promise<void> => {
    const known = stamped.get(sessionId);
    const current = known && incarnationOf(known.record) === incarnation ? known : await directory.read(sessionId);
    const ofLife = current && incarnationOf(current.record) === incarnation ? await clock.exactFor(current) : undefined;
    const now = await clock.serverNow();
    // Known exactly now, the clock may show a record young enough to serve the use without a stamp, as `fresh` would
    // have (a session opened here a moment ago, say): a stamp only after an idle spell of `freshFor`.
    if (ofLife && clock.exact() && now - lastUseOf(ofLife, period) < freshFor)
      return void stamped.set(sessionId, ofLife);
    const written = ofLife && (await directory.stamp(ofLife, now, period));
    if (!written) {
      stamped.delete(sessionId);
      const reason = await goneAs(sessionId, incarnation, current);
      deps.lost(sessionId, incarnation, reason);
      throw new SessionError(reason === 'expired' ? 'session_expired' : 'session_not_found', sessionId);
    }
    stamped.set(sessionId, written);
    if (lastUseOf(written, period) < now)
      throw new InternalError(`session '${sessionId}' kept changing under the stamp of its use`, {
        details: { sessionId },
      });
  };

  /** Stamps a use a round found, on the server's clock known exactly (see `exactFor`). */
  const stamp = async (use: SessionUse): Promise<void> => {
    const known = stamped.get(use.sessionId);
    const current =
      known && incarnationOf(known.record) === use.incarnation ? known : await directory.read(use.sessionId);
    const ofLife =
      current && incarnationOf(current.record) === use.incarnation ? await clock.exactFor(current) : undefined;
    if (ofLife) {
      const at = serverTimeOf(use);
      if (at === undefined) {
        // Still not exact (the write not read back: the key written again at once by another node): the next round's.
        stamped.set(use.sessionId, ofLife);
        return void unstamped.set(use.sessionId, use);
      }
      const written = await directory.stamp(ofLife, at, period);
      if (written) return void stamped.set(use.sessionId, written);
    }
    stamped.delete(use.sessionId);
    // After a recheck (the node cut off as another expired the session) its record is known no more: the use tells.
    deps.lost(use.sessionId, use.incarnation, await goneAs(use.sessionId, use.incarnation, current));
  };

  /** Whether a use is later than the last stamp this node knows of its session. */
  const isDue = (use: SessionUse): boolean => {
    const at = serverTimeOf(use);
    const known = stamped.get(use.sessionId);
    // A use not told exactly yet is due: its stamp makes the clock exact first.
    return at === undefined || !known || lastUseOf(known, period) < at;
  };

  const stampAll = async (): Promise<void> => {
    const uses = new Map(unstamped);
    unstamped.clear();
    // A use given now is at least as late as one left over of the same life, and of the life that counts.
    for (const use of deps.uses()) uses.set(use.sessionId, use);
    const due = [...uses.values()].filter(isDue);
    // Only sessions still used here are kept: a node's memory follows its running sessions.
    for (const sessionId of stamped.keys()) if (!uses.has(sessionId)) stamped.delete(sessionId);
    for (const sessionId of usedAt.keys()) if (!uses.has(sessionId)) usedAt.delete(sessionId);
    await eachLimited(due, async (use) => {
      if (down()) return void unstamped.set(use.sessionId, use);
      await stamp(use).catch((error: unknown) => deps.report(error, `stamping session ${use.sessionId}`));
    });
  };

  /** One round of a scan from `sequence`: at most {@link SCAN_BATCH} removals; where it got, when it filled up. */
  const scanFrom = async (sequence: number): Promise<number | undefined> => {
    if (down()) return undefined;
    await clock.sample();
    const now = clock.now();
    if (now === undefined) return undefined;
    const work: Array<() => Promise<unknown>> = [];
    for (;;) {
      // Down, the read would wait out the bucket's unavailability: the scan is the next round's.
      if (work.length >= SCAN_BATCH || down()) break;
      const next = await directory.oldest(sequence);
      if (!next) break;
      sequence = next.sequence + 1;
      const { found, sessionId } = next;
      if (!found) {
        // A tombstone: a removal not finished yet. Once nodes that heard of it late have had time to notice, at
        // their stamp or by the control message, what is left under the id is purged again and the tombstone goes.
        if (now - next.writtenAt >= grace)
          work.push(() =>
            deps.removal
              .sweep(sessionId)
              .catch((error: unknown) => deps.report(error, `sweeping session ${sessionId}`)),
          );
        continue;
      }
      const age = now - lastUseOf(found, period);
      // Not a time: a record this version did not write. Passed by, not expired, and no reason to stop. The scan
      // stops at a record younger than the threshold: records written after it were stamped after it, with last
      // uses at most `period` older than its own.
      if (Number.isNaN(age)) continue;
      if (age < deps.ttlMs + period) break;
      work.push(() =>
        deps.removal.expire(found).catch((error: unknown) => deps.report(error, `expiring session ${sessionId}`)),
      );
    }
    await eachLimited(work, (run) => run());
    return work.length >= SCAN_BATCH ? sequence : undefined;
  };

  /** Scans, round after round while rounds fill up: a backlog drains at {@link PARALLEL} removals at a time. */
  const scan = async (): Promise<void> => {
    for (let from: number | undefined = 1; from !== undefined && !stopped;) from = await scanFrom(from);
  };

  /** `work`, one run at a time: called while a run is under way (or once stopped), the run under way. */
  const single = (work: () => Promise<void>): (() => Promise<void>) => {
    let running: Promise<void> | undefined;
    return () => {
      if (running || stopped) return running ?? Promise.resolve();
      running = work()
        .catch((error: unknown) => deps.report(error, 'session expiry'))
        .finally(() => (running = undefined));
      return running;
    };
  };
  // Apart: a scan draining a backlog must not hold back the stamps, which `freshFor` counts on within `period`.
  const stampTick = single(stampAll);
  const scanTick = single(scan);
  const tick = (): void => {
    void stampTick();
    void scanTick();
  };

  const timer = setInterval(tick, period);
  timer.unref();
  return {
    note(found) {
      const known = stamped.get(found.record.sessionId);
      if (!known || known.revision < found.revision) stamped.set(found.record.sessionId, found);
    },
    fresh(sessionId, incarnation) {
      const known = stamped.get(sessionId);
      const now = clock.now();
      const recent =
        known !== undefined &&
        now !== undefined &&
        // A lagging estimate would take a record another node wrote long ago for a recent one (see `freshFor`).
        clock.exact() &&
        incarnationOf(known.record) === incarnation &&
        now - lastUseOf(known, period) < freshFor;
      if (recent) return undefined;
      let pending = stampsBeforeUse.get(sessionId);
      if (!pending) {
        pending = stampBeforeUse(sessionId, incarnation).finally(() => stampsBeforeUse.delete(sessionId));
        stampsBeforeUse.set(sessionId, pending);
      }
      return pending;
    },
    recheck() {
      stamped.clear();
      tick();
    },
    async stop(grace = createStopGrace()) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all([stampTick(), scanTick()]);
      // Not a grace of its own: a stop whose held replies waited out the grace for the same connection waits no more.
      const left = grace.until(performance.now()) - performance.now();
      // Only a stamp due is worth the wait: with no session used, or all stamped since, there is nothing to send.
      // `uses()` gives a use once: kept where the stamping below takes it, as it would have.
      for (const use of deps.uses()) unstamped.set(use.sessionId, use);
      const due = [...unstamped.values()].some(isDue);
      if (deps.link && left > 0 && due) await connectionBack(deps.link, left, grace.closed);
      await stampAll().catch((error: unknown) => deps.report(error, 'session expiry'));
      if (unstamped.size === 0) return;
      const ids = [...unstamped.keys()];
      unstamped.clear();
      const shown = ids.length > 5 ? `${ids.slice(0, 5).join(', ')}, …` : ids.join(', ');
      deps.report(
        new StoreUnavailableError(directory.bucket, ids[0]!, 'stamp', grace.ms, 'not_applied', {
          what: `noting the last uses of ${ids.length} session(s) used here (${shown})`,
          reason: 'the NATS connection was down as the node stopped',
          details: { sessionIds: ids },
        }),
        'session expiry',
      );
    },
  };
}
