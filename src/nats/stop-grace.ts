/**
 * How long a stopping node waits for its connection, once for the whole stop. A stop has more than one thing to send
 * that waits while the connection is down: the replies, notices and events it holds (held-output.ts), then its last
 * stamps of the sessions it used (session-expiry.ts). Each given a grace of its own, one after the other, a node whose
 * connection never came back waited out both, twice the grace, for the same connection. So the grace is one: it runs
 * from the first of those falling due (the oldest held reply, which may be older than the stop; else the stop's
 * stamps), and every wait of the stop ends with it.
 * @module
 */
import { NODE_RECONNECT_GRACE_MS } from './node-watch.js';

/** The one deadline of a stop's waits for its connection. */
export interface StopGrace {
  /** How long the grace is, in ms. */
  readonly ms: number;
  /**
   * The moment the stop gives up on its connection (a `performance.now()` time): {@link StopGrace.ms} after `dueAt`,
   * for the first wait that asks, and the same moment for every later one.
   */
  until(dueAt: number): number;
}

/**
 * A stop's grace of `ms`.
 * @example
 * const grace = createStopGrace();
 * await output.flushed(grace); // held replies: until 6 s after the oldest fell due
 * await expiry.stop(grace); // last stamps: until the same moment
 */
export function createStopGrace(ms = NODE_RECONNECT_GRACE_MS): StopGrace {
  let end: number | undefined;
  return {
    ms,
    until: (dueAt) => (end ??= dueAt + ms),
  };
}
