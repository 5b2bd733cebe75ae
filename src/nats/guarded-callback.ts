/**
 * Subscription callbacks that no message can turn against their connection. nats.js calls a subscription's callback
 * inside its protocol reader, and a callback that throws closes that reader: the connection stays open and subscribed
 * but hears nothing more, with no reconnect and no error to anyone, so the server goes on routing requests to a node
 * that will never answer them. One `null` published to a control subject did that to every node.
 * @module
 */
import type { Msg, NatsError } from 'nats';

/** A subscription callback, as nats.js calls it. */
export type SubscriptionCallback = (error: NatsError | null, msg: Msg) => void;

/** `callback`, with whatever it throws told to `report` (as `where`) instead of reaching nats.js's reader. */
export function guarded(
  report: (error: unknown, where: string) => void,
  where: string,
  callback: SubscriptionCallback,
): SubscriptionCallback {
  return (error, msg) => {
    try {
      callback(error, msg);
    } catch (thrown) {
      report(thrown, where);
    }
  };
}
