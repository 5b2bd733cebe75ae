/**
 * What a plain NATS subscriber of a session's variable events receives, for the tests that check the events.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { VariableEvent } from '../../src/nats/variable-events.js';

/** Subscribes to the variable events of the session `sid` on `nc`; resolves once the server has the subscription. */
export async function collectVariableEvents(
  nc: NatsConnection,
  sid: string,
): Promise<{ events: VariableEvent[]; stop(): void }> {
  const events: VariableEvent[] = [];
  const subscription = nc.subscribe(`tether.v1.events.${sid}.var.>`, {
    callback: (_e, msg) => events.push(msg.json<VariableEvent>()),
  });
  await nc.flush();
  return { events, stop: () => subscription.unsubscribe() };
}
