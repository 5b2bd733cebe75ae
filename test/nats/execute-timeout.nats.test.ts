import { describe, expect, it, onTestFinished } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/** An embedded and a remote handle of one module `qa` of session `sessionId`, on one node. */
async function bothKinds(sessionId: string) {
  const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
  const session = await (await fx().client()).session(sessionId);
  await session.defineVariable('t', 'float', 0.5);
  const remote = await session.module('qa', predict);
  const embedded = await (await node.session(sessionId)).module('qa');
  return { embedded, remote };
}

/** The `timeoutMs` of every execute request of session `sessionId` from now on, as a plain subscriber sees them. */
async function sentTimeouts(sessionId: string): Promise<unknown[]> {
  const sent: unknown[] = [];
  const subscription = nc().subscribe(`tether.v1.session.${sessionId}.module.qa.execute`, {
    callback: (_error, msg) => sent.push((msg.json() as { timeoutMs?: unknown }).timeoutMs),
  });
  await nc().flush();
  onTestFinished(() => subscription.unsubscribe());
  return sent;
}

describe('execute timeoutMs', () => {
  it('is taken alike by an embedded and a remote handle: Infinity for no limit, a fraction rounded up', async () => {
    const { embedded, remote } = await bothKinds('to1');
    const sent = await sentTimeouts('to1');
    for (const timeoutMs of [Number.POSITIVE_INFINITY, 1500.5, 2_147_483_647]) {
      await expect(embedded.execute({ question: 'x' }, { timeoutMs })).resolves.toMatchObject({ moduleId: 'qa' });
      await expect(remote.execute({ question: 'x' }, { timeoutMs })).resolves.toMatchObject({ moduleId: 'qa' });
    }
    // The last request's copy comes on the subscriber's connection, its reply on the client's: a round trip on the
    // subscriber's, and the copy the server sent it before the reply is here.
    await nc().flush();
    // The wire takes whole milliseconds up to 2^31-1: the longest wait it can ask for stands for no limit.
    expect(sent).toEqual([2_147_483_647, 1501, 2_147_483_647]);
  });

  it('is refused alike by an embedded and a remote handle, with the same error, before anything is sent', async () => {
    const { embedded, remote } = await bothKinds('to2');
    const sent = await sentTimeouts('to2');
    for (const timeoutMs of [0, -1, -0.5, Number.NaN, Number.NEGATIVE_INFINITY, 3e9, '5' as unknown as number]) {
      const refusals = await Promise.all(
        [embedded, remote].map((qa) => qa.execute({ question: 'x' }, { timeoutMs }).catch((error: unknown) => error)),
      );
      const [fromEmbedded, fromRemote] = refusals.map((error) => JSON.stringify(error));
      expect(fromRemote).toBe(fromEmbedded);
      expect(refusals[0]).toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^timeoutMs of an execution of module 'qa' .* got /),
        details: { field: 'timeoutMs', sessionId: 'to2', moduleId: 'qa' },
      });
    }
    await nc().flush();
    expect(sent).toEqual([]);
  });

  it("fails with the node's own call_timeout, naming the stage, when the node's timeout runs out first", async () => {
    await fx().node(fx().buckets(), { llm: llm() });
    const session = await (await fx().client()).session('to3');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', { ...predict, maxRetries: 0 });
    // The provider never answers: the node's timeout ends the execution, and the client waits for its answer.
    stub().hold();
    await expect(qa.execute({ question: 'x' }, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'call_timeout',
      details: { timeoutMs: 300, stage: 'executing', sessionId: 'to3', moduleId: 'qa' },
    });
  });

  it("is the execution's own wait, not the client's request timeout, which an execution may outlast", async () => {
    await fx().node(fx().buckets(), { llm: llm() });
    const session = await (await fx().client({ timeoutMs: 300 })).session('to4');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', { ...predict, maxRetries: 0 });
    stub().hold();
    const execution = qa.execute({ question: 'x' });
    await waitFor(() => stub().chatRequests.length === 1, { message: 'the model was asked' });
    // Twice the client's request timeout: a request waiting by that would have failed with call_timeout by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    stub().release();
    await expect(execution).resolves.toMatchObject({ moduleId: 'qa', output: { answer: 'stub answer' } });
  });
});

describe('execute signal', () => {
  it('is refused alike by an embedded and a remote handle unless an AbortSignal, before anything is sent', async () => {
    const { embedded, remote } = await bothKinds('sig1');
    const sent = await sentTimeouts('sig1');
    // The controller itself, the easy slip, and a look-alike that is not one.
    for (const signal of [new AbortController(), { aborted: false }, 'abort'] as unknown as AbortSignal[]) {
      const refusals = await Promise.all(
        [embedded, remote].map((qa) => qa.execute({ question: 'x' }, { signal }).catch((error: unknown) => error)),
      );
      expect(JSON.stringify(refusals[1])).toBe(JSON.stringify(refusals[0]));
      expect(refusals[0]).toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^signal of an execution of module 'qa' must be an AbortSignal, got /),
        details: { field: 'signal', constraint: 'type', sessionId: 'sig1', moduleId: 'qa' },
      });
    }
    expect(sent).toEqual([]);
    // Nothing was left waiting on the client: it closes cleanly, and a right signal works.
    await expect(remote.execute({ question: 'x' }, { signal: new AbortController().signal })).resolves.toMatchObject({
      moduleId: 'qa',
    });
  });
});
