/**
 * Riding out NATS's "no responders" on the client: when every node was on a server that died, a request finds no
 * node subscribed until they have reconnected (2–3 s with the default reconnect wait). A client that a node has
 * answered before knows nodes exist, and sends the request again for a while instead of failing with `noproc` at
 * once. Sending again is safe: no node got the request.
 * @module
 */
import { NODE_RECONNECT_GRACE_MS } from './node-watch.js';
import { isNoResponders } from './request-failure.js';

/** How often a request that found no node subscribed is sent again while the nodes may be reconnecting. */
export const NO_RESPONDERS_RETRY_MS = 250;

/** The least time a send again is worth: enough to hear that no node is subscribed, as the server says at once. */
const MIN_ATTEMPT_MS = 100;

/**
 * Runs `attempt`, and again while it fails for want of a subscribed node, for at most {@link NODE_RECONNECT_GRACE_MS}
 * and `waitMs`, when `served` says a node has answered this client (a client no node ever answered learns at once
 * that none runs). Each attempt is given what is left of `waitMs`, so the request as a whole keeps its timeout.
 */
export async function rideOutNoResponders<T>(
  waitMs: number,
  served: () => boolean,
  attempt: (leftMs: number) => Promise<T>,
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
      await new Promise((resolve) => setTimeout(resolve, NO_RESPONDERS_RETRY_MS));
      // A send with almost no time left would end as a timeout, as if a node had got it: no node ever did.
      if (left() < MIN_ATTEMPT_MS) throw error;
    }
  }
}
