import { createInbox, headers, type Msg } from 'nats';
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { isNotice, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const enc = new TextEncoder();
const spec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

/** A node serving module `qa` of session `s1`, its LLM the stub. */
async function nodeWithModule() {
  const node = await fx().node(fx().buckets(), { llm: stubbed.llm() });
  const session = await node.runtime.session('s1');
  await session.module('qa', spec);
  return node;
}

/** Asks the node `nodeId` about `executionId` of `moduleId`, as any NATS client would. */
async function ask(nodeId: string, body: object, moduleId = 'qa'): Promise<Msg> {
  const subject = `tether.v1.node.${nodeId}.s1.module.${moduleId}.outcome`;
  return nc().request(subject, enc.encode(JSON.stringify(body)), { timeout: 5_000 });
}

/** Starts a held execution of `qa` and resolves once the node announced it; returns what answers it, as it comes. */
async function heldExecution(executionId: string): Promise<Msg[]> {
  stubbed.stub().hold();
  const received = rawRequest(
    nc(),
    'tether.v1.session.s1.module.qa.execute',
    { inputs: { question: 'q' }, executionId },
    true,
  );
  await waitFor(() => received.some(isNotice), { message: 'the acceptance notice' });
  return received;
}

describe('execution outcome subject', () => {
  it('answers running while an execution runs, then its reply as sent, and unknown for any other id', async () => {
    const node = await nodeWithModule();
    const received = await heldExecution('wire-1');

    const running = await ask(node.serviceId, { executionId: 'wire-1' });
    expect(running.headers?.get('Tether-Execution-Outcome')).toBe('running');
    expect(running.json()).toEqual({ outcome: 'running' });

    stubbed.stub().release();
    const reply = await waitFor(() => received.find((msg) => !isNotice(msg)), { message: 'the reply' });
    const finished = await ask(node.serviceId, { executionId: 'wire-1' });
    expect(finished.headers?.get('Tether-Execution-Outcome')).toBe('finished');
    expect(finished.string()).toBe(reply.string());
    expect(finished.json<{ result: { executionId: string } }>().result.executionId).toBe('wire-1');

    for (const [body, moduleId] of [
      [{ executionId: 'wire-2' }, 'qa'],
      [{ executionId: 'wire-1' }, 'other'],
    ] as const) {
      const unknown = await ask(node.serviceId, body, moduleId);
      expect(unknown.headers?.get('Tether-Execution-Outcome')).toBe('unknown');
      expect(unknown.json()).toEqual({ outcome: 'unknown' });
    }
  });

  it('keeps an error reply with its error headers, and refuses a malformed question', async () => {
    const node = await nodeWithModule();
    const received = await heldExecution('wire-3');
    await nc().request('tether.v1.session.s1.module.qa.cancel', enc.encode(JSON.stringify({ executionId: 'wire-3' })), {
      timeout: 5_000,
    });
    const reply = await waitFor(() => received.find((msg) => !isNotice(msg)), { message: 'the reply' });
    expect(reply.headers?.get('Nats-Service-Error-Code')).toBeTruthy();

    const finished = await ask(node.serviceId, { executionId: 'wire-3' });
    expect(finished.headers?.get('Tether-Execution-Outcome')).toBe('finished');
    expect(finished.headers?.get('Nats-Service-Error-Code')).toBe(reply.headers?.get('Nats-Service-Error-Code'));
    expect(finished.headers?.get('Nats-Service-Error')).toBe(reply.headers?.get('Nats-Service-Error'));
    expect(finished.json()).toEqual(reply.json());
    expect(finished.json<{ error: { code: string } }>().error.code).toBe('execution_aborted');

    const refused = await ask(node.serviceId, { executionID: 'wire-3' });
    expect(refused.headers?.has('Tether-Execution-Outcome')).toBe(false);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('validation_failed');
    // An id no execution can have (execute and cancel refuse it) is refused too, not answered `unknown`.
    for (const executionId of ['wire 3', 'wire.3', 'w'.repeat(129)]) {
      const bad = await ask(node.serviceId, { executionId });
      expect(bad.headers?.has('Tether-Execution-Outcome')).toBe(false);
      expect(bad.json()).toMatchObject({ error: { code: 'validation_failed', details: { field: 'executionId' } } });
    }
    // A question is tiny: a body over 1 KiB is none, whatever it holds (docs/protocol.md says so); one of 1 KiB is.
    const question = (bytes: number) => enc.encode(JSON.stringify({ executionId: 'wire-3' }).padEnd(bytes, ' '));
    const subject = `tether.v1.node.${node.serviceId}.s1.module.qa.outcome`;
    const taken = await nc().request(subject, question(1024), { timeout: 5_000 });
    expect(taken.headers?.get('Tether-Execution-Outcome')).toBe('finished');
    const oversized = await nc().request(subject, question(1025), { timeout: 5_000 });
    expect(oversized.headers?.has('Tether-Execution-Outcome')).toBe(false);
    expect(oversized.json()).toMatchObject({
      error: { code: 'validation_failed', details: { constraint: 'maxPayload', size: 1025, limit: 1024 } },
    });
  });

  describe('asked of every node (node token all)', () => {
    /** Asks every node about `executionId` of `qa`, as a client that never learnt the node; returns what answers. */
    const askAll = (executionId: string): Msg[] =>
      rawRequest(nc(), 'tether.v1.node.all.s1.module.qa.outcome', { executionId });

    it('is answered by the node that has it, naming itself: running, then the reply as sent', async () => {
      const node = await nodeWithModule();
      const received = await heldExecution('all-1');

      const running = askAll('all-1');
      const answer = await waitFor(() => running[0], { message: 'the running answer' });
      expect(answer.headers?.get('Tether-Execution-Outcome')).toBe('running');
      expect(answer.headers?.get('Tether-Accepted-By')).toBe(node.serviceId);

      stubbed.stub().release();
      const reply = await waitFor(() => received.find((msg) => !isNotice(msg)), { message: 'the reply' });
      const finished = askAll('all-1');
      const kept = await waitFor(() => finished[0], { message: 'the finished answer' });
      expect(kept.headers?.get('Tether-Execution-Outcome')).toBe('finished');
      expect(kept.headers?.get('Tether-Accepted-By')).toBe(node.serviceId);
      expect(kept.string()).toBe(reply.string());
    });

    it('is left unanswered by every node that does not have the execution', async () => {
      const buckets = fx().buckets();
      const nodes = [
        await fx().node(buckets, { llm: stubbed.llm() }),
        await fx().node(buckets, { llm: stubbed.llm() }),
      ];
      await (await nodes[0]!.runtime.session('s1')).module('qa', spec);
      const received = await heldExecution('all-2');
      const taker = received.find(isNotice)?.headers?.get('Tether-Accepted-By');

      const known = askAll('all-2');
      const unknown = askAll('nobody');
      // Each node answers its questions in the order they came: once it answered the one addressed to it alone,
      // it has dealt with both questions to every node.
      const direct = nodes.map((node) => {
        const answers = rawRequest(nc(), `tether.v1.node.${node.serviceId}.s1.module.qa.outcome`, {
          executionId: 'nobody',
        });
        return waitFor(() => answers[0], { message: `node ${node.serviceId} answers` });
      });
      for (const answer of await Promise.all(direct))
        expect(answer.headers?.get('Tether-Execution-Outcome')).toBe('unknown');

      expect(unknown).toEqual([]);
      expect(known).toHaveLength(1);
      expect(known[0]!.headers?.get('Tether-Accepted-By')).toBe(taker);
      expect(known[0]!.headers?.get('Tether-Execution-Outcome')).toBe('running');
      stubbed.stub().release();
    });
  });

  it('keeps the reply of an execution when a resend of its id is refused for a bad revision header, announcing nothing', async () => {
    const node = await nodeWithModule();
    const subject = 'tether.v1.session.s1.module.qa.execute';
    const first = await nc().request(subject, enc.encode('{"inputs":{"question":"q"},"executionId":"kept-1"}'), {
      timeout: 5_000,
    });
    const cases = ['Tether-Min-Revision', 'Tether-Min-Modules-Revision'].flatMap((header) =>
      ['soon', '0x10'].map((value) => [header, value] as const),
    );
    for (const [header, value] of cases) {
      const h = headers();
      h.set(header, value);
      h.set('Tether-Accept-Notice', '1');
      const inbox = createInbox();
      const received: Msg[] = [];
      const subscription = nc().subscribe(inbox, { callback: (_error, msg) => received.push(msg) });
      nc().publish(subject, enc.encode('{"inputs":{"question":"other"},"executionId":"kept-1"}'), {
        reply: inbox,
        headers: h,
      });
      const refused = await waitFor(() => received[0], { message: 'the refusal' });
      subscription.unsubscribe();
      expect(refused.json<{ error: { code: string; message: string } }>().error, value).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining(`header ${header} must be a whole number`),
      });
      // No acceptance notice went first: the request was refused before the node took it.
      expect(received.some(isNotice), value).toBe(false);
    }
    const kept = await ask(node.serviceId, { executionId: 'kept-1' });
    expect(kept.headers?.get('Tether-Execution-Outcome')).toBe('finished');
    expect(kept.string()).toBe(first.string());
  });
});
