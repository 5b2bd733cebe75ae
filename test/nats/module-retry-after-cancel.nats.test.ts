/**
 * Found by a review: protocol.md says an `executionId` "is no idempotency key: a request
 * sent again with the id of an execution that ran runs it again". A raw client cancels its running execution
 * `job-9` (the node that had it answers `{ cancelled: true }`), then sends `job-9` again (a retry). The retry must
 * run, on whichever node of the queue group takes it. Every node that did not have the first one remembered the
 * cancel for a minute as one that overtook its execution, and refused the retry there as "cancelled before it
 * started" (`execution_aborted`), although the cancel already found and ended what it was meant for.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { isNotice, rawReply, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();

describe('an execution sent again after its cancel (raw NATS client, two nodes)', () => {
  it('runs the retry on every node, not refused as cancelled before it started', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: stubbed.llm('sk-a') });
    await fx().node(buckets, { llm: stubbed.llm('sk-b') });
    const s = 'tether.v1.session.resend';
    await rawReply(nc(), `${s}.open`, '{}');
    const created = await rawReply(
      nc(),
      `${s}.module.qa.create`,
      JSON.stringify({ spec: { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } }),
    );
    expect(created.errorCode).toBe('');

    stubbed.stub().hold();
    const first = rawRequest(nc(), `${s}.module.qa.execute`, { inputs: { question: 'first' }, executionId: 'job-9' });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the first at the provider' });
    const cancel = await rawReply(nc(), `${s}.module.qa.cancel`, JSON.stringify({ executionId: 'job-9' }));
    expect(cancel.body.result).toEqual({ cancelled: true });
    await waitFor(() => first.find((m) => !isNotice(m)), { message: "the first's reply" });
    stubbed.stub().release();

    // Retries under the same id, one at a time: the queue group spreads them over both nodes.
    const codes: string[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const reply = await rawReply(
        nc(),
        `${s}.module.qa.execute`,
        JSON.stringify({ inputs: { question: `retry ${attempt}` }, executionId: 'job-9' }),
      );
      codes.push(reply.errorCode === '' ? 'ok' : (reply.body.error?.code ?? reply.errorCode));
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  });
});
