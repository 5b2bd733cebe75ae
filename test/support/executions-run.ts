/**
 * The executions a module started, as any subscriber of its events hears them: the ids of its `module.state` changes
 * to `executing`. A test that an execution did not run checks that its id is not among them.
 * @module
 */
import type { NatsConnection } from 'nats';
import { onTestFinished } from 'vitest';

/**
 * Subscribes on `nc` to module `moduleId` of session `sessionId` (default prefix); returns the ids heard, as they
 * come, until the test ends. Flush `nc` before relying on it: the subscription must reach the server first.
 */
export function executionsRun(nc: NatsConnection, sessionId: string, moduleId: string): string[] {
  const ran: string[] = [];
  const events = nc.subscribe(`tether.v1.events.${sessionId}.module.${moduleId}`, {
    callback: (_error, msg) => {
      const event = msg.json<{ type: string; state?: string; executionId?: string }>();
      if (event.type === 'module.state' && event.state === 'executing') ran.push(event.executionId!);
    },
  });
  onTestFinished(() => events.unsubscribe());
  return ran;
}
