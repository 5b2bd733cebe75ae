/**
 * The JetStream server's clock as a node can know it: the one clock every node of a system shares, which idle expiry
 * judges by (session-expiry.ts), so that a node whose own wall clock is off, or is stepped (NTP, a resumed VM), does
 * not judge sessions by it.
 *
 * nats-server 2.9 tells no "now", only when it stored each message. A message the node saw stored, or read as the
 * stream's last, had been stored by the moment the node saw it: a lower bound of the server's time then, carried
 * forward on the monotonic clock (`performance.now()`, which no clock step moves). The estimate is the highest of those
 * bounds, so it is never ahead of the server's clock (a session judged younger than it is, never older). It is exact
 * to a round trip from the node's own write that is the stream's last (session-stream-reads.ts reads it back); after a
 * write by another node only, it lags by as long as the node took to look again.
 * @module
 */

/** A bound of the server's clock: `serverTime` (ms since epoch) had passed on it when `monotonic` was read here. */
export interface ServerTimeSample {
  readonly serverTime: number;
  /** `performance.now()` when the node knew it. */
  readonly monotonic: number;
  /**
   * The time a write of the node's own was stored, and `monotonic` when its acknowledgement came: the server's clock
   * then, to a round trip.
   */
  readonly exact?: boolean;
}

/** The server's clock, estimated from bounds the node saw. */
export interface ServerClock {
  /** Takes a bound in. */
  observe(sample: ServerTimeSample): void;
  /** The server's time (ms since epoch) at the local `monotonic` time; `undefined` before any bound was seen. */
  at(monotonic: number): number | undefined;
  /** The server's time now; `undefined` before any bound was seen. */
  now(): number | undefined;
  /**
   * Whether the estimate is within a round trip of the server's clock: it has had an exact bound (a write of its own).
   * Until then it may lag by as long as nobody wrote the bucket before this node first looked.
   */
  exact(): boolean;
}

/**
 * How long a bound is carried forward at most, in multiples of `horizonMs`. The monotonic clock runs at its crystal's
 * rate (some 50 ppm off when NTP does not discipline it): carried for 100 TTLs, a bound drifts by 1/200 of a TTL,
 * far below the quarter-TTL margins of expiry; carried for ever, it would drift by minutes a year.
 */
const CARRIED_FOR = 100;

/**
 * A server clock whose bounds are carried forward for at most `CARRIED_FOR × horizonMs` (for expiry, the TTL): longer
 * than a session can wait to be expired, so an estimate never falls back behind a session's expiry for want of new
 * writes.
 * @example
 * const clock = createServerClock(3_600_000);
 * clock.observe({ serverTime: message.time.getTime(), monotonic: performance.now() });
 * clock.now();
 */
export function createServerClock(horizonMs: number): ServerClock {
  const carriedFor = CARRIED_FOR * horizonMs;
  let best: ServerTimeSample | undefined;
  /** When the last exact bound was seen here: the best bound is at least as good until it goes stale. */
  let exactAt: number | undefined;
  const offsetOf = (sample: ServerTimeSample): number => sample.serverTime - sample.monotonic;
  const clock: ServerClock = {
    observe(sample) {
      if (!Number.isFinite(sample.serverTime)) return;
      if (sample.exact === true) exactAt = sample.monotonic;
      const stale = best !== undefined && sample.monotonic - best.monotonic > carriedFor;
      if (best === undefined || stale || offsetOf(sample) > offsetOf(best)) best = sample;
    },
    at(monotonic) {
      // Whole ms, as records hold times: a time written and read back compares equal.
      return best === undefined ? undefined : Math.floor(offsetOf(best) + monotonic);
    },
    now() {
      return clock.at(performance.now());
    },
    exact() {
      return exactAt !== undefined && performance.now() - exactAt <= carriedFor;
    },
  };
  return clock;
}
