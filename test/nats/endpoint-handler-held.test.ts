import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import type { AcceptanceNotices } from '../../src/nats/acceptance-notices.js';
import { HeldOutputDroppedError } from '../../src/errors.js';
import { createEndpointHandlers } from '../../src/nats/endpoint-handler.js';
import { EndpointStats } from '../../src/nats/endpoint-stats.js';
import type { EventOutbox } from '../../src/nats/event-outbox.js';
import { createExecutionReplies, executionReplyKey } from '../../src/nats/execution-replies.js';
import { createHeldOutput } from '../../src/nats/held-output.js';
import type { ServiceRequest } from '../../src/nats/service-endpoint.js';
import { createSubjects } from '../../src/nats/subjects.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';
import { closingConnection } from '../support/closing-connection.js';
import { manualLink } from '../support/manual-link.js';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
const key = executionReplyKey('s1', 'qa', 'e1');

/**
 * A node's execute handler over a link the test drops by hand, keeping replies of up to `maxBytes`, whose every
 * reply fails to send (over the server's max_payload, headers counted) and every error reply goes out, until `close`
 * closes its connection for good: then both fail, as nats.js's do; `finish` ends the execution with `reply`. What
 * the node reports is in `reported`.
 */
function executeWhoseReplyFails(maxBytes?: number) {
  const { link, drop, back } = manualLink();
  const closing = closingConnection();
  const whenOpen = () => {
    if (closing.connection.isClosed()) throw new Error('CONNECTION_CLOSED');
  };
  const reported: [unknown, string][] = [];
  const report = (error: unknown, where: string) => void reported.push([error, where]);
  const replies = createExecutionReplies(maxBytes === undefined ? {} : { maxBytes });
  const handlers = createEndpointHandlers({
    connection: {} as NatsConnection,
    payloadLimit: () => 1024 * 1024,
    subjects: createSubjects(),
    store: { highestRevision: 7 } as TrackingStore,
    modules: undefined,
    stats: new EndpointStats(),
    notices: { accepted() {}, taken() {}, replied() {} } satisfies AcceptanceNotices,
    outbox: { sendNow() {} } as unknown as EventOutbox,
    replies,
    output: createHeldOutput(link, report, closing.connection),
    report,
  });
  const sent: { data: string | undefined; status: number }[] = [];
  const request: ServiceRequest = {
    subject: 'tether.v1.s1.module.qa.execute',
    data: new Uint8Array(),
    reply: '_INBOX.caller',
    respond: () => {
      whenOpen();
      throw new Error('MAX_PAYLOAD_EXCEEDED');
    },
    respondError: (status, _description, data) => {
      whenOpen();
      sent.push({ data: text(data), status });
      return true;
    },
  };
  let finish: (reply: Uint8Array) => void = () => {};
  handlers.handler('execute', 'tether.v1.*.module.*.execute', (msg) => {
    replies.started(msg, key);
    return new Promise((resolve) => (finish = resolve));
  })(null, request);
  return {
    replies,
    sent,
    reported,
    drop,
    back,
    /** Closes the connection for good, and lets what follows its close run. */
    async close() {
      closing.close();
      await closing.connection.closed();
    },
    /** Ends the execution with `reply` and lets its handler answer. */
    async finish(reply: string) {
      finish(new TextEncoder().encode(reply));
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('the reply kept of an execution whose reply fails to send', () => {
  it('is the error reply that went out instead, also when the reply was too large to keep', async () => {
    const { replies, sent, finish } = executeWhoseReplyFails(1024);
    await finish(JSON.stringify({ result: 'x'.repeat(2048) }));

    expect(sent).toHaveLength(1);
    expect(sent[0]!.data).toContain('MAX_PAYLOAD_EXCEEDED');
    expect(replies.outcome(key)).toMatchObject({
      data: new TextEncoder().encode(sent[0]!.data),
      error: { status: 500 },
    });
  });

  it('is the error reply that went out instead once the node was back, when it was held meanwhile', async () => {
    const { replies, sent, drop, back, finish } = executeWhoseReplyFails();
    drop();
    await finish('{"result":{"answer":"large"}}');
    // Held: nothing went, and what is kept is the reply as it is to go.
    expect(sent).toEqual([]);
    expect(text((replies.outcome(key) as { data: Uint8Array }).data)).toContain('large');

    back();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.data).toContain('MAX_PAYLOAD_EXCEEDED');
    // A caller that lost it and asks gets what went out, not the reply it was never sent.
    expect(replies.outcome(key)).toMatchObject({
      data: new TextEncoder().encode(sent[0]!.data),
      error: { status: 500 },
    });
  });

  // Found by a review: a held reply lost as the connection closed was told on its own, as a bare library error.
  it('is told to onError with the rest of what was held, as one held_output_dropped, when the connection closes for good', async () => {
    const { sent, reported, drop, close, finish } = executeWhoseReplyFails();
    drop();
    await finish('{"result":{"answer":"held"}}');
    await close();

    expect(sent).toEqual([]);
    expect(reported).toEqual([[expect.any(HeldOutputDroppedError), 'held output']]);
    expect(reported[0]![0]).toMatchObject({
      code: 'held_output_dropped',
      details: { count: 1, reason: 'send_failed', when: 'closed' },
      cause: new Error('CONNECTION_CLOSED'),
    });
  });

  it('is told to onError on its own when it fails as it is sent at once', async () => {
    const { sent, reported, close, finish } = executeWhoseReplyFails();
    await close();
    await finish('{"result":{"answer":"late"}}');

    expect(sent).toEqual([]);
    expect(reported).toEqual([[new Error('CONNECTION_CLOSED'), 'replying on tether.v1.s1.module.qa.execute']]);
  });
});
