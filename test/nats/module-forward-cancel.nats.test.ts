import { createInbox, headers as natsHeaders } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { errorCode, replyOf, useModuleForwardNodes } from '../support/module-forward-nodes.js';

const { nc, stubbed, ownerAndOther, forwardedExecution } = useModuleForwardNodes();
const enc = new TextEncoder();

describe('requests for a module that stays on its node', () => {
  it('leaves a question to every node about an execution passed on to the relaying node, the one its caller watches', async () => {
    const { a, b } = await ownerAndOther({ llm: stubbed.llm() });
    stubbed.stub().hold();
    const { executionId } = await forwardedExecution(b);
    const question = enc.encode(JSON.stringify({ executionId }));
    const answeredBy: string[] = [];
    const inbox = createInbox();
    const answers = nc().subscribe(inbox, {
      callback: (_error, msg) => answeredBy.push(msg.headers?.get('Tether-Accepted-By') ?? '?'),
    });
    onTestFinished(() => answers.unsubscribe());
    nc().publish('tether.v1.node.all.s1.module.local.outcome', question, { reply: inbox });
    // Asked next by name, the owner says it runs it; by then it would have answered every node's question too.
    const owner = await nc().request(`tether.v1.node.${a.serviceId}.s1.module.local.outcome`, question, {
      timeout: 5000,
    });
    expect(owner.headers?.get('Tether-Execution-Outcome')).toBe('running');
    await waitFor(() => answeredBy.length > 0, { message: "the relaying node's answer" });
    await nc().flush();

    expect(answeredBy).toEqual([b.serviceId]);
  });

  it('cancels an execution passed on to the owner, by the id its caller gave', async () => {
    const { b, onA } = await ownerAndOther({ llm: stubbed.llm() });
    stubbed.stub().delayMs = 30_000;
    const { executionId, received } = await forwardedExecution(b);
    const onOwner = await onA.module('local');
    expect((await onOwner.describe()).state).toBe('executing');

    const cancel = await nc().request(
      'tether.v1.session.s1.module.local.cancel',
      enc.encode(JSON.stringify({ executionId, reason: 'changed my mind' })),
      { timeout: 5000 },
    );

    expect(cancel.json<{ result: unknown }>().result).toEqual({ cancelled: true });
    const reply = await replyOf(received);
    expect(errorCode(reply)).toBe('execution_aborted');
    expect(reply.json<{ error: { details: { executionId: string } } }>().error.details.executionId).toBe(executionId);
    // It ran on the owner, which is free again: nothing runs on for nobody.
    expect(await onOwner.describe()).toMatchObject({ state: 'idle', queued: 0 });
  }, 30_000);

  it("cancels an execution passed on to the owner when the relaying node's drain timeout ends it", async () => {
    const { b, onA } = await ownerAndOther({ llm: stubbed.llm() });
    stubbed.stub().delayMs = 30_000;
    const { executionId, received } = await forwardedExecution(b);
    const onOwner = await onA.module('local');
    const failures: { executionId: string; error: { code: string; details: { reason?: string } } }[] = [];
    onOwner.on('module.failed', (event) => void failures.push(event as (typeof failures)[number]));

    // What a stopping `tether serve` does once its --drain-timeout runs out.
    const stopping = b.runtime.stop();
    expect(await b.runtime.endRequests('drain timeout of 10 ms ran out')).toBe(1);

    const reply = await replyOf(received);
    expect(errorCode(reply)).toBe('node_stopping');
    // The owner, which runs on, dropped the provider call: nothing runs there for a caller already answered.
    await waitFor(() => failures.length === 1, { message: 'the execution cancelled on its owner' });
    expect(failures[0]).toMatchObject({
      executionId,
      error: {
        code: 'execution_aborted',
        details: { reason: 'its node is stopping (drain timeout of 10 ms ran out)' },
      },
    });
    await waitFor(() => stubbed.stub().abandoned >= 1, { message: 'the provider request dropped' });
    expect(await onOwner.describe()).toMatchObject({ state: 'idle', queued: 0 });
    await stopping;
  }, 30_000);

  it('tells a describe passed on to the owner, which the owner ended as it stopped, that it changed nothing', async () => {
    const { a } = await ownerAndOther({ llm: stubbed.llm() });
    // As a relaying node passes it on, its caller's revision along: held in the read-your-writes wait until ended.
    const headers = natsHeaders();
    headers.set('Tether-Min-Revision', '999999');
    const data = enc.encode(JSON.stringify({}));
    const reply = nc().request('tether.v1.forward.s1.module.local.describe', data, { headers, timeout: 10_000 });
    let ended = 0;
    await waitFor(async () => (ended += await a.runtime.endRequests('drain timeout of 10 ms ran out')) === 1);

    const error = (await reply).json<{ error: { code: string; message: string; details: object } }>().error;
    expect(error).toMatchObject({ code: 'node_stopping', details: { read: true } });
    expect(error.details).not.toHaveProperty('outcome');
    expect(error.message).toMatch(/it ended the request, which changed nothing$/);
  }, 30_000);

  it('times an execution passed on to the owner out at the timeout its caller gave, with call_timeout', async () => {
    const { b } = await ownerAndOther({ llm: stubbed.llm() });
    stubbed.stub().delayMs = 30_000;
    const { received } = await forwardedExecution(b, 1_500);

    const reply = await replyOf(received);

    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('504');
    expect(errorCode(reply)).toBe('call_timeout');
    // The owner's own timeout, relayed (the relaying node waits a grace longer): it names the module and the stage.
    expect(reply.json<{ error: { details: object } }>().error.details).toMatchObject({
      timeoutMs: 1_500,
      moduleId: 'local',
      stage: 'executing',
    });
  }, 30_000);
});
