/**
 * A raw NATS client follows an execution by its `executionId` on the module's events subject: every execution ends
 * there with `module.result` or `module.failed`. A cancel's `reason` is any string the caller sends, repeated in the
 * execution's error (message and `details.reason`), so a cancel with a reason of ~600 KB (well under the 1 MiB a
 * request may take) made a `module.failed` over `max_payload`, which the node dropped: the follower never heard that
 * the execution ended (found in review). It comes with its error cut, as the execute reply's is.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { isNotice, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const enc = new TextEncoder();

describe('module.failed of an execution cancelled with a long reason (raw NATS client)', () => {
  it('still reaches the module events subject, cut to fit, as the execute reply is', async () => {
    await fx().node(fx().buckets(), { llm: stubbed.llm() });
    const s = 'tether.v1.session.big';
    const events: { type: string; executionId?: string; error?: { code: string; details?: object } }[] = [];
    nc().subscribe('tether.v1.events.big.module.qa', { callback: (_e, m) => events.push(m.json()) });
    await nc().request(`${s}.open`, enc.encode('{}'));
    await nc().request(
      `${s}.module.qa.create`,
      enc.encode(JSON.stringify({ spec: { type: 'Predict', signature: 'question:string -> answer:string' } })),
    );
    stubbed.stub().hold();
    const replies = rawRequest(
      nc(),
      `${s}.module.qa.execute`,
      { inputs: { question: 'q' }, executionId: 'long-1' },
      true,
    );
    await waitFor(() => replies.some(isNotice), { message: 'the acceptance notice' });

    const reason = 'r'.repeat(600_000); // a cancel body of ~600 KB: well under the 1 MiB a request may take
    const cancel = await nc().request(
      `${s}.module.qa.cancel`,
      enc.encode(JSON.stringify({ executionId: 'long-1', reason })),
      {
        timeout: 5000,
      },
    );
    expect(cancel.json()).toMatchObject({ result: { cancelled: true } });

    // The caller's reply comes, cut to fit (docs: an error over 16 KiB comes cut, details.cut: true).
    const reply = await waitFor(() => replies.find((m) => !isNotice(m)), { message: 'the execute reply' });
    expect(reply.json<{ error: { code: string } }>().error.code).toBe('execution_aborted');
    // The module goes idle (that event is published) ...
    await waitFor(() => events.some((e) => e.type === 'module.state' && (e as { state?: string }).state === 'idle'), {
      message: 'the idle state event',
    });
    // ... but the execution's end must be told too: every execution ends with module.result or module.failed.
    const failed = events.find((e) => e.type === 'module.failed' && e.executionId === 'long-1');
    expect(failed?.error).toMatchObject({ code: 'execution_aborted', details: { cut: true } });
  });
});
