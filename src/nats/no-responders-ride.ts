/**
 * Riding out NATS's "no responders" on the client: when every node was on a server that died, a request finds no
 * node subscribed until they have reconnected (2–3 s with the default reconnect wait). A client that a node has
 * answered before knows nodes exist, and sends the request again for a while instead of failing with `noproc` at
 * once. Sending again is safe: no node got the request. A request the caller can abort ends at once when it does,
 * even in the wait between two sends.
 * @module
 */
import { NODE_RECONNECT_GRACE_MS } from './node-watch.js';
import { isNoResponders } from './request-failure.js';
import { onAbort } from '../modules/signal-listeners.js';

/** How often a request that found no node subscribed is sent again while the nodes may be reconnecting. */
export const NO_RESPONDERS_RETRY_MS = 250;

/** The least time a send again is worth: enough to hear that no node is subscribed, as the server says at once. */
const MIN_ATTEMPT_MS = 100;

/** How a ride's caller gives up on it: `signal` firing rejects the ride at once with `aborted()`. */
export interface RideAbort {
  readonly signal?: AbortSignal | undefined;
  /** The error the request rejects with when `signal` fires, the same one its attempt would reject with. */
  readonly aborted: () => Error;
}

/**
 * Runs `attempt`, and again while it fails for want of a subscribed node, for at most {@link NODE_RECONNECT_GRACE_MS}
 * and `waitMs`, when `served` says a node has answered this client (a client no node ever answered learns at once
 * that none runs). Each attempt is given what is left of `waitMs`, so the request as a whole keeps its timeout. With
 * `abort`, the ride rejects with `abort.aborted()` as soon as its signal fires, in the wait between two sends too (an
 * attempt ends at once on it already), rather than up to {@link NO_RESPONDERS_RETRY_MS} late.
 */
export async function rideOutNoResponders<T>(
  waitMs: number,
  served: () => boolean,
  attempt: (leftMs: number) => Promise<T>,
  abort?: RideAbort,
): Promise<T> {
  const started = performance.now();
  const until = started + Math.min(waitMs, NODE_RECONNECT_GRACE_MS);
  const left = (): number => Math.round(started + waitMs - performance.now());
  for (let first = true; ; first = false) {
    try {
      return await attempt(first ? waitMs : left());
    } catch (error) {
      const again = served() && isNoResponders(error) && performance.now() + NO_RESPONDERS_RETRY_MS < until;
      if (!again) throw error;
      await pause(NO_RESPONDERS_RETRY_MS, abort?.signal);
      if (abort?.signal?.aborted) throw abort.aborted();
      // A send with almost no time left would end as a timeout, as if a node had got it: no node ever did.
      if (left() < MIN_ATTEMPT_MS) throw error;
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` fires; it leaves no timer nor listener behind. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      offAbort?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    // The execution's signal, which others may share: all of them pause here together while no node is subscribed.
    const offAbort = signal && onAbort(signal, done);
  });
}
