/**
 * The pings a stopping service answers itself: stopping the micro service also ends its `$SRV` subscriptions, while
 * its requests in flight are still to be answered.
 * @module
 */
import type { NatsConnection, Service, Subscription } from 'nats';
import { guarded } from './guarded-callback.js';
import { refusedError } from './permission-refusal.js';
import { SERVICE_NAME, encodeJson } from './wire.js';

/**
 * Stopping the service also ends its `$SRV` subscriptions, yet the requests in flight still get their replies:
 * until they have, this instance answers its pings, so a caller watching it (it asked for an acceptance notice)
 * does not take a draining node for a lost one. Subscribed before the service unsubscribes: no gap. Subscribed
 * with nothing in flight too: a request the server delivered before the unsubscription is still taken while the
 * service drains, and announced. `undefined` when the connection takes no subscription.
 */
export function answerPingsWhileDraining(
  connection: NatsConnection,
  service: Service,
  serviceId: string,
  report: (error: unknown, where: string) => void,
): Subscription | undefined {
  if (connection.isClosed()) return undefined;
  const identity = encodeJson(service.ping());
  try {
    return connection.subscribe(`$SRV.PING.${SERVICE_NAME}.${serviceId}`, {
      callback: guarded(report, 'answering pings while draining', (error, msg) => {
        // nats.js hands a refused subscription its error with no message: told as every refused subject is.
        if (error) return report(refusedError(connection.getServer(), 'pings while draining refused', error), 'nats');
        msg.respond(identity);
      }),
    });
  } catch (error) {
    // A draining connection takes no subscription; its node is going anyway.
    report(error, 'answering pings while draining');
    return undefined;
  }
}
