/**
 * How long a stopping node waits for its connection, once for the whole stop. A stop has more than one thing that
 * waits on its connection: the drain of its subscriptions (the server's answer to a flush, which a server that stopped
 * answering with the connection still up never sends), then the replies, notices and events it holds while the
 * connection is down (held-output.ts), then its last stamps of the sessions it used (session-expiry.ts). Each given a
 * grace of its own, one after the other, a node whose connection never came back waited out each in turn, for the
 * same connection. So the grace is one: it runs from the first of those falling due (the oldest held reply, which may
 * be older than the stop; else the stop itself), and every wait of the stop ends with it.
 * @module
 */
import { NODE_RECONNECT_GRACE_MS } from './node-watch.js';

/** The one deadline of a stop's waits for its connection. */
export interface StopGrace {
  /** How long the grace is, in ms. */
  readonly ms: number;
  /**
   * The moment the stop gives up on its connection (a `performance.now()` time): {@link StopGrace.ms} after the
   * earliest `dueAt` asked with so far. A wait that asks later with a later `dueAt` gets no grace of its own; one
   * with an earlier `dueAt` (a reply held since before the stop, asked after its drain) ends no later than ms after it.
   */
  until(dueAt: number): number;
  /**
   * Settles once the connection is closed for good (it gave up reconnecting): from then on nothing a wait of the stop
   * waits for can come, and the wait ends there. Absent from a grace given none.
   */
  readonly closed?: Promise<unknown>;
}

/**
 * A stop's grace of `ms`; the wait of the last stamps for the connection to be back also ends once `closed` (the
 * connection's `closed()`) settles, as the held replies' does on the close by itself (held-output.ts).
 * @example
 * const grace = createStopGrace(undefined, connection.closed());
 * await output.flushed(grace); // held replies: until 6 s after the oldest fell due
 * await expiry.stop(grace); // last stamps: until the same moment
 */
export function createStopGrace(ms = NODE_RECONNECT_GRACE_MS, closed?: Promise<unknown>): StopGrace {
  let end = Infinity;
  return {
    ms,
    until: (dueAt) => (end = Math.min(end, dueAt + ms)),
    ...(closed ? { closed } : {}),
  };
}

/**
 * Resolves `true` once `work` settles, or `false` once `grace` runs out for a wait due now: for what a stop waits for
 * from the server, which has no bound of its own. `work` is left running.
 */
export async function settlesInGrace(work: Promise<unknown>, grace: StopGrace): Promise<boolean> {
  const now = performance.now();
  const left = Math.max(0, grace.until(now) - now);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), left))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
