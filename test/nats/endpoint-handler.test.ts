import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import type { AcceptanceNotices } from '../../src/nats/acceptance-notices.js';
import { createEndpointHandlers } from '../../src/nats/endpoint-handler.js';
import { EndpointStats } from '../../src/nats/endpoint-stats.js';
import type { EventOutbox } from '../../src/nats/event-outbox.js';
import { createExecutionReplies } from '../../src/nats/execution-replies.js';
import type { HeldOutput } from '../../src/nats/held-output.js';
import { RelayedReply, type ServiceRequest } from '../../src/nats/service-endpoint.js';
import { createSubjects } from '../../src/nats/subjects.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';

const SUBJECT = 'tether.v1.session.s1.module.qa.execute';
const ENDPOINT = 'tether.v1.session.*.module.*.execute';

/** What a reply carried, as text. */
const text = (data: unknown): string =>
  typeof data === 'string' ? data : new TextDecoder().decode(data as Uint8Array);

/**
 * The handler of the module `execute` endpoint under a server `max_payload` of `limit` bytes, whose work answers
 * with what `serve` gives: `answer` sends one request and resolves to what went out (its bytes and, for an error
 * reply, its status); `stats` are the endpoint's.
 */
function handlerAnswering(limit: number, serve: () => Uint8Array | RelayedReply) {
  const stats = new EndpointStats();
  const handlers = createEndpointHandlers({
    connection: {} as NatsConnection,
    payloadLimit: () => limit,
    subjects: createSubjects(),
    store: { highestRevision: 7 } as TrackingStore,
    modules: undefined,
    stats,
    notices: { accepted() {}, taken() {}, replied() {} } satisfies AcceptanceNotices,
    outbox: { sendNow() {} } as unknown as EventOutbox,
    replies: createExecutionReplies({}),
    output: { send: (publish: () => void) => publish() } as unknown as HeldOutput,
    report: (error) => {
      throw error;
    },
  });
  const handle = handlers.handler('module-execute', ENDPOINT, () => Promise.resolve(serve()));
  const answer = () =>
    new Promise<{ data: string; status?: number }>((resolve) => {
      const request: ServiceRequest = {
        subject: SUBJECT,
        data: new Uint8Array(),
        reply: '_INBOX.caller',
        respond: (data) => {
          resolve({ data: text(data) });
          return true;
        },
        respondError: (status, _description, data) => {
          resolve({ data: text(data), status });
          return true;
        },
      };
      handle(null, request);
    });
  return { answer, stats: () => stats.data(ENDPOINT) };
}

describe('endpoint handler', () => {
  it('sends a reply of exactly max_payload bytes, and answers one byte more with payload_too_large', async () => {
    let size = 100;
    const { answer } = handlerAnswering(100, () => new TextEncoder().encode('x'.repeat(size)));
    expect(await answer()).toEqual({ data: 'x'.repeat(100) });
    size = 101;
    const refused = await answer();
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.data)).toMatchObject({ error: { code: 'payload_too_large' }, revision: 7 });
  });

  it("counts another node's error reply passed on as it came as an error in the endpoint's stats", async () => {
    const relayed = new TextEncoder().encode('{"error":{"code":"module_not_found"},"revision":3}');
    let error: { status: number; description: string } | undefined = { status: 404, description: 'module_not_found' };
    const { answer, stats } = handlerAnswering(1024, () => new RelayedReply(relayed, error));
    expect(await answer()).toEqual({ data: new TextDecoder().decode(relayed), status: 404 });
    error = undefined;
    expect(await answer()).toEqual({ data: new TextDecoder().decode(relayed) });
    expect(stats()).toMatchObject({ replies: 2, errors: 1 });
  });
});
