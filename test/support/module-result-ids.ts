/**
 * The execution ids of the `module.result` events a plain subscriber sees for one module: which executions ran.
 * @module
 */
import type { NatsConnection } from 'nats';
import { onTestFinished } from 'vitest';

/** Subscribes `connection` to the module's events for the rest of the test; the list grows as results come. */
export function moduleResultIds(connection: NatsConnection, sessionId: string, moduleId: string): string[] {
  const results: string[] = [];
  const events = connection.subscribe(`tether.v1.events.${sessionId}.module.${moduleId}`, {
    callback: (_error, msg) => {
      const event = msg.json<{ type: string; result?: { executionId: string } }>();
      if (event.type === 'module.result') results.push(event.result!.executionId);
    },
  });
  onTestFinished(() => events.unsubscribe());
  return results;
}
