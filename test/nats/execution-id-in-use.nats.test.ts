/**
 * Found by a review: a raw client that sent an execution under an id one of its executions still queued or running
 * on the module had was taken, and both went into the mailbox. A cancel, or either one's timeout, names the id: the
 * duplicate's short timeout cancelled the other, running one. The module now refuses the second with
 * `already_exists`, and the first runs on untouched.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { isNotice, rawReply, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const s = 'tether.v1.session.reuse';

const execute = (executionId: string, question: string, timeoutMs = 30_000) =>
  rawReply(nc(), `${s}.module.qa.execute`, JSON.stringify({ inputs: { question }, executionId, timeoutMs }));

describe('an execution sent under the id of one still queued or running (raw NATS client)', () => {
  it('is refused with already_exists, and the one it would have cancelled runs on', async () => {
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    await rawReply(nc(), `${s}.open`, '{}');
    const spec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };
    expect((await rawReply(nc(), `${s}.module.qa.create`, JSON.stringify({ spec }))).errorCode).toBe('');

    stubbed.stub().hold();
    const running = rawRequest(nc(), `${s}.module.qa.execute`, { inputs: { question: 'first' }, executionId: 'job-1' });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'job-1 at the provider' });
    const queued = rawRequest(nc(), `${s}.module.qa.execute`, { inputs: { question: 'second' }, executionId: 'job-2' });

    // A short timeout: had it gone into the mailbox, its timeout would have cancelled the running job-1.
    const again = await execute('job-1', 'first, again', 200);
    expect(again.errorCode).toBe('409');
    expect(again.body.error).toMatchObject({
      code: 'already_exists',
      details: { kind: 'execution', id: 'job-1', moduleId: 'qa', executionId: 'job-1' },
    });
    expect(again.body.error.message).toContain("execution 'job-1' of module 'qa' already exists");
    // Queued, an id is as taken as running.
    expect((await execute('job-2', 'second, again', 200)).body.error).toMatchObject({
      code: 'already_exists',
      details: { id: 'job-2' },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    stubbed.stub().release();
    const replyOf = (received: typeof running) => received.find((m) => !isNotice(m));
    await waitFor(() => replyOf(running) && replyOf(queued), { message: 'the replies of job-1 and job-2' });
    for (const [received, id] of [
      [running, 'job-1'],
      [queued, 'job-2'],
    ] as const) {
      const reply = replyOf(received)!;
      expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      expect(reply.json<{ result: { executionId: string } }>().result.executionId).toBe(id);
    }
    // Refused, they changed nothing: the provider heard only the two that ran.
    expect(stubbed.stub().chatRequests).toHaveLength(2);
    // Finished, the id is free again (an id is no idempotency key).
    expect((await execute('job-1', 'first, once more')).errorCode).toBe('');
  });
});
