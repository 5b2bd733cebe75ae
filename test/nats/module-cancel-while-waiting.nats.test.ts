/**
 * A raw client sends an `execute` with `Tether-Min-Revision` (read-your-writes: it saw a write another node made) and
 * `Tether-Accept-Notice`. The node that takes it announces it, and its outcome subject says `running` while it waits
 * to apply that revision. A `module.cancel` sent now stops it, and says so: `{ "cancelled": true }` is "an execution
 * of that id was running or queued". Found in review: the node answered `false`, then aborted the execution anyway.
 */
import { createInbox, headers, type Msg } from 'nats';
import { describe, expect, it } from 'vitest';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { isNotice } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const enc = new TextEncoder();

/** Publishes an execute as a raw client does, with the headers given; collects the notice and the reply. */
function execute(subject: string, executionId: string, h: Record<string, string>): Msg[] {
  const inbox = createInbox();
  const received: Msg[] = [];
  const sub = nc().subscribe(inbox, { callback: (_e, m) => received.push(m) });
  const hdrs = headers();
  for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
  nc().publish(subject, enc.encode(JSON.stringify({ inputs: { question: 'q' }, executionId })), {
    reply: inbox,
    headers: hdrs,
  });
  setTimeout(() => sub.unsubscribe(), 15_000).unref();
  return received;
}

describe('module.cancel of an execution waiting for read-your-writes (raw NATS client)', () => {
  it('answers cancelled: true for an execution the node announced and reports running', async () => {
    const buckets = fx().buckets();
    // Node B hears of the variables bucket's writes late (as a node of a cluster may); node A at once.
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.variablesBucket}.`),
    );
    try {
      const a = await fx().node(buckets, { llm: stubbed.llm() });
      const b = await fx().node(buckets, { llm: stubbed.llm(), servers: proxy.url });
      const s = 'tether.v1.session.ryw';
      await nc().request(`${s}.open`, enc.encode('{}'));
      await nc().request(
        `${s}.module.qa.create`,
        enc.encode(JSON.stringify({ spec: { type: 'Predict', signature: 'question:string -> answer:string' } })),
      );
      proxy.hold();
      // A write through node A (another client's, say), whose revision the raw client has seen.
      await (await a.runtime.session('ryw')).defineVariable('t', 'float', 0.5);
      const kvInfo = await (await nc().jetstreamManager()).streams.info(`KV_${buckets.variablesBucket}`);
      const revision = String(kvInfo.state.last_seq);

      // Sent until node B takes one (the queue group picks the node); node A runs the others at once.
      let received: Msg[] = [];
      let executionId = '';
      for (let attempt = 0; attempt < 20; attempt++) {
        executionId = `w-${attempt}`;
        received = execute(`${s}.module.qa.execute`, executionId, {
          'Tether-Accept-Notice': '1',
          'Tether-Min-Revision': revision,
        });
        const first = await waitFor(() => received[0], { message: 'a notice or the reply' });
        if (isNotice(first) && first.headers?.get('Tether-Accepted-By') === b.serviceId) break;
        await waitFor(() => received.find((m) => !isNotice(m)), { message: 'the reply of node A' });
        received = [];
      }
      expect(received.length, 'node B took none of 20 executes').toBeGreaterThan(0);

      const outcome = await nc().request(
        `tether.v1.node.${b.serviceId}.ryw.module.qa.outcome`,
        enc.encode(JSON.stringify({ executionId })),
      );
      expect(outcome.headers?.get('Tether-Execution-Outcome')).toBe('running');

      const cancel = await nc().request(
        `${s}.module.qa.cancel`,
        enc.encode(JSON.stringify({ executionId, reason: 'stop' })),
        {
          timeout: 5000,
        },
      );
      proxy.release();
      const reply = await waitFor(() => received.find((m) => !isNotice(m)), { message: 'the execute reply' });
      // The execution was stopped by this cancel ...
      expect(reply.json<{ error?: { code: string } }>().error?.code).toBe('execution_aborted');
      // ... so the cancel must say that it stopped one.
      expect(cancel.json()).toMatchObject({ result: { cancelled: true } });

      // Node B held it only while it waited: once it has ended, a cancel of it stops nothing and says so.
      const late = await nc().request(`${s}.module.qa.cancel`, enc.encode(JSON.stringify({ executionId })), {
        timeout: 5000,
      });
      expect(late.json()).toMatchObject({ result: { cancelled: false } });
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  }, 30_000);
});
