/**
 * A node whose `$SRV` subscriptions the server refuses once it runs (its user's permissions reloaded): nats.js tells
 * none of its service's subscriptions (see `serviceSubjectRefusals` in needed-subscription.ts), so the node would
 * go on serving requests and answer no ping, its callers taking it for lost, with nothing said. It tells `onError`
 * a `nats_connection` refusal naming each subject, as it does for its other subscriptions refused later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const users = (deny: readonly string[]): string =>
  `authorization { users: [ { user: node, password: p, permissions: { subscribe: { deny: ${JSON.stringify(deny)} } } } ] }`;

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({ config: users([]) });
});
afterAll(() => server?.stop());

describe('a node refused its $SRV subscriptions once running', () => {
  it('tells onError a nats_connection naming each refused $SRV subject, once', async () => {
    const told: { error: unknown; where: string }[] = [];
    const runtime = await Runtime.start({
      onError: (error, where) => told.push({ error, where }),
      nats: { servers: server.url, user: 'node', pass: 'p' },
    });
    try {
      await server.reload!(users(['$SRV.>']));
      const subject = `$SRV.PING.tether.${runtime.nodeId}`;
      const refusedSubject = ({ error }: { error: unknown }) =>
        (error as { details?: { subject?: string } }).details?.subject;
      await waitFor(() => told.some((report) => refusedSubject(report) === subject), {
        timeout: 10_000,
        message: 'the refusal of its ping subscription told',
      });
      for (const report of told) {
        expect(report).toEqual({
          error: expect.objectContaining({ code: 'nats_connection', status: 'refused' }) as unknown,
          where: 'nats',
        });
        expect(refusedSubject(report)).toMatch(/^\$SRV\./);
      }
      // Once per subject.
      const subjects = told.map(refusedSubject);
      expect(new Set(subjects).size).toBe(subjects.length);
    } finally {
      await runtime.stop();
    }
  }, 30_000);
});
