/**
 * Requests waiting until a node has applied a bucket revision (its router, the variables store's; its watch, the
 * modules bucket's). Kept in a list ordered by revision, so each applied change releases a prefix of it and looks
 * at nothing else. A revision above the bucket's last one is refused instead ({@link waitUnlessUnknown}), the same
 * way for both buckets.
 * @module
 */
import { RevisionUnknownError } from '../errors.js';
import type { WatchOutage } from './watch-outage.js';

/**
 * How much longer than its bound a wait goes on while the node's watch of the bucket is down (see watch-outage.ts):
 * once it is back it delivers what it missed within milliseconds, so the wait is not refused for an outage that ends
 * in a few seconds. Its resume gives up on a consumer that is not created within a second and tries again (a third
 * of them land on a dead server for a while), so this covers several tries. A node's late notice counts it in.
 */
export const OUTAGE_WAIT_MS = 8000;

/**
 * How far a node has got in one bucket, as read-your-writes needs it: the service holds a request until the
 * revision its client has seen is applied, and tells the client in each reply the highest revision it knows.
 */
export interface AppliedRevisions {
  /** Every write up to this revision has been applied on this node (0 before the first). */
  readonly appliedRevision: number;
  /** The highest revision this node knows exists: applied, or written by this node itself. */
  readonly highestRevision: number;
  /**
   * Resolves `true` once `appliedRevision >= revision`, `false` when `timeoutMs` passes first; rejects with
   * `RevisionUnknownError` when the bucket's last revision is below `revision` (see {@link waitUnlessUnknown}).
   */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean>;
}

interface Waiter {
  readonly revision: number;
  readonly resolve: (reached: boolean) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set while the wait is held past its bound for an outage to end: takes it off the outage's list. */
  unhold: (() => void) | undefined;
}

/**
 * Waiters for revisions, released by {@link RevisionWaiters.advance} or by their timeout. Given the `outage` of the
 * watch that advances them, a wait whose timeout comes while that watch is down goes on until it is back, and then
 * for up to its timeout again, at most {@link OUTAGE_WAIT_MS} past its own timeout in all.
 */
export class RevisionWaiters {
  /** Sorted by revision, lowest first. */
  readonly #waiting: Waiter[] = [];
  readonly #outage: WatchOutage | undefined;

  constructor(outage?: WatchOutage) {
    this.#outage = outage;
  }

  /**
   * Resolves `true` once `advance` reaches `revision`, `false` after `timeoutMs` (see the class comment);
   * `throughOutage: false` for a wait whose bound an outage must not lengthen.
   */
  wait(revision: number, timeoutMs: number, throughOutage = true): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { revision, resolve, timer: undefined, unhold: undefined };
      const outage = throughOutage ? this.#outage : undefined;
      // Read only for a wait that could be held: one that is not costs nothing more than before.
      const latest = outage ? performance.now() + timeoutMs + OUTAGE_WAIT_MS : 0;
      const expire = (): void => {
        waiter.unhold?.();
        waiter.unhold = undefined;
        const left = latest - performance.now();
        if (outage?.down && left > 0) {
          // The watch that would advance it is down: held until it is back, or until the outage's bound.
          waiter.timer = setTimeout(expire, left);
          waiter.unhold = outage.whenOver(() => {
            clearTimeout(waiter.timer);
            waiter.unhold = undefined;
            // Back: it delivers what it missed, normally at once; the wait's own timeout bounds that catching up.
            waiter.timer = setTimeout(expire, Math.max(0, Math.min(timeoutMs, latest - performance.now())));
          });
          return;
        }
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(false);
      };
      waiter.timer = setTimeout(expire, timeoutMs);
      // Binary search: many requests may wait at once under load, and most arrive in revision order.
      let low = 0;
      let high = this.#waiting.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((this.#waiting[mid] as Waiter).revision <= revision) low = mid + 1;
        else high = mid;
      }
      this.#waiting.splice(low, 0, waiter);
    });
  }

  /** Releases every waiter at or below `applied`. */
  advance(applied: number): void {
    let count = 0;
    while (count < this.#waiting.length && (this.#waiting[count] as Waiter).revision <= applied) count += 1;
    if (count === 0) return;
    for (const waiter of this.#waiting.splice(0, count)) {
      clearTimeout(waiter.timer);
      waiter.unhold?.();
      waiter.resolve(true);
    }
  }

  /** How many requests are waiting. */
  get size(): number {
    return this.#waiting.length;
  }
}

/** What {@link waitUnlessUnknown} needs to know of one bucket. */
export interface UnknownRevisionCheck {
  /** The bucket, named by the error. */
  readonly bucket: string;
  /** The request header that carries the bucket's revision, named by the error (`details.header`). */
  readonly header: string;
  /** The bucket's last revision right now (for KV: the bucket stream's last sequence). */
  readonly lastRevision: () => Promise<number>;
  /** How far the node has applied the bucket, read again when the last revision is in. */
  readonly applied: () => number;
  /** How long a wait goes on before the last revision is read (at most half the wait's timeout). */
  readonly graceMs: number;
  /**
   * The revision of the first message after `after` the bucket still holds, `undefined` when none: a revision
   * whose messages are all gone (removed from the stream after they were written, as a session deletion removes
   * its purge markers) never reaches a watch that had not delivered them yet, and the wait would end only at its
   * timeout, or with the next write to the bucket.
   */
  readonly nextKept?: (after: number) => Promise<number | undefined>;
  /** Counts every revision up to `upTo` applied: the bucket holds none of those the node had not applied. */
  readonly skipRemoved?: (upTo: number) => void;
  /**
   * Told when, the grace passed, the bucket holds the revision and the node has not applied it: its watch may have
   * been moved past it by the server, and should check now (see `KvWatchHandle.checkNow`).
   */
  readonly behind?: (() => void) | undefined;
}

/**
 * Once the bucket is known to hold `revision`: if none of the messages between what the node applied and it is kept
 * any more, counts them applied (which releases the wait). A failed read proves nothing and skips nothing.
 */
function skipIfRemoved(revision: number, check: UnknownRevisionCheck): void {
  const { nextKept, skipRemoved } = check;
  const from = check.applied();
  if (!nextKept || !skipRemoved || from >= revision) return;
  nextKept(from).then(
    // Sequences only grow: what is not kept between `from` and `revision` now will never be delivered.
    (next) => (next === undefined || next > revision ? skipRemoved(revision) : undefined),
    () => {},
  );
}

/**
 * `reached` (a wait for `revision`), unless the bucket's last revision, read once the grace has passed with the
 * wait still on, is below `revision`: then a `RevisionUnknownError`. The read starts after the request arrived, and
 * the client saw `revision` in a reply (or an event) before it sent the request, so the write that made it was
 * acknowledged before the read: a last revision below it means another bucket. In a cluster the stream info comes
 * from the stream's leader, which holds every acknowledged write, so a lagging replica cannot make a revision look
 * unknown. A failed read proves nothing: the wait goes on to its timeout. The grace spares the JetStream API a read
 * for every request that catches the node a little behind.
 */
export function waitUnlessUnknown(
  revision: number,
  reached: Promise<boolean>,
  timeoutMs: number,
  check: UnknownRevisionCheck,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => {
        if (settled) return;
        check.lastRevision().then(
          (last) => {
            if (last < revision && check.applied() < revision) {
              reject(new RevisionUnknownError(check.bucket, revision, last, { details: { header: check.header } }));
              return;
            }
            resolve(reached);
            if (check.applied() >= revision) return;
            check.behind?.();
            skipIfRemoved(revision, check);
          },
          () => resolve(reached),
        );
      },
      Math.min(check.graceMs, timeoutMs / 2),
    );
    void reached.then(() => {
      settled = true;
      clearTimeout(timer);
      resolve(reached);
    });
  });
}
