import { headers } from 'nats';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ExecutionUnknownError, Runtime, createLanguageModel } from '../../src/index.js';
import { takeCensus } from '../../src/nats/execution-census.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { encodeJson } from '../../src/nats/wire.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
let stub: OpenAIStub;

beforeAll(async () => {
  stub = await OpenAIStub.start();
});
afterAll(async () => {
  await stub?.close();
});

const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/**
 * A client whose `execute` requests for module `qa` wait at a proxy while the test holds them, a node, and the
 * session `sessionId` with that module, executed once through the proxy.
 */
async function clientBehindProxy(sessionId: string) {
  const node = await fx().node(fx().buckets());
  let executesSent = 0;
  const proxy = await startHoldingProxy(fx().server.url, (subject) => {
    if (!subject.endsWith('.module.qa.execute')) return false;
    executesSent += 1;
    return true;
  });
  onTestFinished(() => proxy.close());
  const client = await fx().client({ servers: proxy.url });
  const session = await client.session(sessionId);
  await session.defineVariable('t', 'float', 0.5);
  const qa = await session.module('qa', predict);
  await qa.execute({ question: 'through the proxy' });
  return { node, proxy, qa, executesSent: () => executesSent };
}

/** Checks that `failure` is the error of an execution no live node has a record of, `nodes` having been asked. */
function expectUntaken(failure: unknown, sessionId: string, nodes: readonly string[]): void {
  expect(failure).toBeInstanceOf(ExecutionUnknownError);
  const error = failure as ExecutionUnknownError;
  expect(error.nodeId).toBeUndefined();
  expect(error.message).toMatch(
    /^no node acknowledged execution '.+' of module 'qa' in session '.+', and no live node/,
  );
  expect(error.details).toMatchObject({ sessionId, moduleId: 'qa', nodes });
  expect(error.details).not.toHaveProperty('nodeId');
}

describe('an execution that no node took', () => {
  it('ends with execution_unknown within seconds when its request never reached a node', async () => {
    const { node, proxy, qa } = await clientBehindProxy('untaken-1');
    proxy.hold();
    // Its wait would be 122 s; the test's own timeout is far below it.
    expectUntaken(await qa.execute({ question: 'lost on its way' }).catch((e: unknown) => e), 'untaken-1', [
      node.serviceId,
    ]);
  }, 30_000);

  it("ends with execution_unknown when its request was lost as the client's connection dropped", async () => {
    const { node, proxy, qa, executesSent } = await clientBehindProxy('untaken-2');
    proxy.hold();
    const sent = executesSent();
    const executing = qa.execute({ question: 'lost in the outage' }).catch((e: unknown) => e);
    await waitFor(() => executesSent() === sent + 1, { message: 'the execute reached the proxy' });
    // What the proxy held is gone with the connection, as what a restarting server held is.
    proxy.cut();
    proxy.restore();
    expectUntaken(await executing, 'untaken-2', [node.serviceId]);
  }, 30_000);

  it('still runs, and is answered, when the request reaches a node late', async () => {
    const { proxy, qa } = await clientBehindProxy('untaken-3');
    proxy.hold();
    const executing = qa.execute({ question: 'late' });
    // Released before the first census: the node takes it, and its reply settles the execution.
    setTimeout(() => proxy.release(), 500);
    await expect(executing).resolves.toMatchObject({ moduleId: 'qa', output: { answer: expect.any(String) } });
  }, 30_000);
});

describe('the census of the nodes', () => {
  it('names the node that has an execution in hand, and says when no node of the prefix has one', async () => {
    const buckets = fx().buckets();
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const [a, b] = [await fx().node(buckets, { llm }), await fx().node(buckets, { llm })];
    // Another deployment on the same server (another subject prefix) has nothing to do with these executions.
    const other = await Runtime.start({
      onError: () => {},
      nats: { servers: fx().server.url, prefix: 'elsewhere', ...fx().buckets() },
    });
    onTestFinished(() => other.stop());
    const client = await fx().client();
    const session = await client.session('census-1');
    await session.defineVariable('t', 'float', 0.5);
    await session.module('qa', predict);

    // An execution of a known id, sent as any NATS client would, held at the model while the census is taken.
    stub.hold();
    stub.reply(text('{"answer":"ok"}'));
    const h = headers();
    h.set('Tether-Accept-Notice', '1');
    const running = nc().request(
      'tether.v1.session.census-1.module.qa.execute',
      encodeJson({ inputs: { question: 'x' }, executionId: 'ex-census-1' }),
      { timeout: 10_000, headers: h },
    );
    await waitFor(() => stub.chatRequests.length === 1, { message: 'the execution reached the model' });

    const subjects = createSubjects();
    const execution = { sessionId: 'census-1', moduleId: 'qa' };
    const found = await takeCensus(nc(), subjects, { ...execution, executionId: 'ex-census-1' });
    expect(found.kind).toBe('running');
    expect([a.serviceId, b.serviceId]).toContain((found as { nodeId: string }).nodeId);

    const missing = await takeCensus(nc(), subjects, { ...execution, executionId: 'ex-never-sent' });
    expect(missing.kind).toBe('nobody');
    expect([...(missing as { readonly nodes: readonly string[] }).nodes].sort()).toEqual(
      [a.serviceId, b.serviceId].sort(),
    );

    // No node serves a prefix nobody runs: nothing to conclude.
    const noNode = await takeCensus(nc(), createSubjects('nobody-here'), { ...execution, executionId: 'ex-x' });
    expect(noNode).toEqual({ kind: 'inconclusive' });
    stub.release();
    await running;
  }, 30_000);
});
