import { connect as connectNats, headers } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ExecutionUnknownError, Runtime } from '../../src/index.js';
import { listNodes, takeCensus } from '../../src/nats/execution-census.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { encodeJson } from '../../src/nats/wire.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { startNatsServer } from '../support/nats-server.js';
import { isNotice, rawRequest } from '../support/raw-request.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm: stubLlm } = useOpenAIStub();

/** A census's deadline: the execution it searches for is waited for a minute more. */
const later = (): number => Date.now() + 60_000;

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
    // The census questions every node hears carry the execution's deadline when the census may settle the search:
    // a node that stalled with the execute in its socket will not run it once resumed (searched-execution.nats.test.ts).
    const searchDeadlines: string[] = [];
    const questions = nc().subscribe('tether.v1.node.all.untaken-1.module.qa.outcome', {
      callback: (_error, msg) => searchDeadlines.push(msg.headers?.get('Tether-Search-Deadline') ?? ''),
    });
    onTestFinished(() => questions.unsubscribe());
    await nc().flush();
    proxy.hold();
    const calledAt = Date.now();
    // Its wait would be 122 s; the test's own timeout is far below it.
    expectUntaken(await qa.execute({ question: 'lost on its way' }).catch((e: unknown) => e), 'untaken-1', [
      node.serviceId,
    ]);
    const concludedAt = Date.now();
    // Every question of the censuses taken went out before the conclusion: the server has sent them on.
    await nc().flush();
    // The first census follows none that found nobody; the one concluded from may settle the search.
    expect(searchDeadlines.length).toBeGreaterThanOrEqual(2);
    expect(searchDeadlines[0]).toBe('');
    expect(searchDeadlines.at(-1)).not.toBe('');
    for (const deadline of searchDeadlines.filter((value) => value !== '').map(Number)) {
      expect(deadline).toBeGreaterThanOrEqual(calledAt + 122_000 - 5);
      expect(deadline).toBeLessThanOrEqual(concludedAt + 122_000);
    }
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
    const llm = stubLlm();
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
    stub().hold();
    stub().reply(text('{"answer":"ok"}'));
    const asked = stub().chatRequests.length;
    const h = headers();
    h.set('Tether-Accept-Notice', '1');
    const running = nc().request(
      'tether.v1.session.census-1.module.qa.execute',
      encodeJson({ inputs: { question: 'x' }, executionId: 'ex-census-1' }),
      { timeout: 10_000, headers: h },
    );
    await waitFor(() => stub().chatRequests.length > asked, { message: 'the execution reached the model' });

    const subjects = createSubjects();
    const execution = { sessionId: 'census-1', moduleId: 'qa' };
    const found = await takeCensus(nc(), subjects, { ...execution, executionId: 'ex-census-1' }, later());
    expect(found.kind).toBe('running');
    expect([a.serviceId, b.serviceId]).toContain((found as { nodeId: string }).nodeId);

    const missing = await takeCensus(nc(), subjects, { ...execution, executionId: 'ex-never-sent' }, later());
    expect(missing.kind).toBe('nobody');
    expect([...(missing as { readonly nodes: readonly string[] }).nodes].sort()).toEqual(
      [a.serviceId, b.serviceId].sort(),
    );

    // No node serves a prefix nobody runs: nothing to conclude.
    const noNode = await takeCensus(
      nc(),
      createSubjects('nobody-here'),
      { ...execution, executionId: 'ex-x' },
      later(),
    );
    expect(noNode).toEqual({ kind: 'inconclusive' });
    stub().release();
    await running;
  }, 30_000);

  /** An execution `executionId` of module `qa` of session `sessionId`, held at the model, sent as any client would. */
  async function heldExecution(sessionId: string, executionId: string) {
    stub().hold();
    stub().reply(text('{"answer":"ok"}'));
    const received = rawRequest(
      nc(),
      `tether.v1.session.${sessionId}.module.qa.execute`,
      { inputs: { question: 'x' }, executionId, timeoutMs: 60_000 },
      true,
    );
    await waitFor(() => received.some(isNotice), { message: 'the execution was taken' });
    return received.find(isNotice)!.headers!.get('Tether-Accepted-By');
  }

  it('lists a node that answers its ping late, as long as the node watch waits for one', async () => {
    const buckets = fx().buckets();
    // Node A's pings reach it half a second late (a far region, a busy event loop): a ping it does not miss.
    const lagged = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('$SRV.PING'));
    onTestFinished(() => lagged.close());
    lagged.lag(500);
    const a = await fx().node(buckets, { servers: lagged.url });
    const b = await fx().node(buckets);
    expect((await listNodes(nc(), createSubjects())).sort()).toEqual([a.serviceId, b.serviceId].sort());
  }, 30_000);

  it('names the node that passes an execution on, the one to watch, not the node that runs it', async () => {
    const buckets = fx().buckets();
    const llm = stubLlm();
    const owner = await fx().node(buckets, { llm });
    // A module with a tool of its own stays on the node that created it: the other node passes its executions on.
    const tool = { name: 'echo', description: 'Repeats its input', func: (args: unknown) => args };
    const ownerSession = await owner.runtime.session('relayed');
    await ownerSession.defineVariable('t', 'float', 0.5);
    await ownerSession.module('qa', { ...predict, type: 'ReAct', tools: [tool] });
    const relay = await fx().node(buckets, { llm });
    let executionId = '';
    for (let i = 0; i < 30 && !executionId; i++) {
      if ((await heldExecution('relayed', `relayed-${i}`)) === relay.serviceId) executionId = `relayed-${i}`;
      else stub().release();
    }
    expect(executionId, 'an execution taken by the node that passes it on').not.toBe('');
    await waitFor(() => stub().chatRequests.length > 0, { message: 'the owner runs it' });
    for (let i = 0; i < 3; i++) {
      const found = await takeCensus(
        nc(),
        createSubjects(),
        { sessionId: 'relayed', moduleId: 'qa', executionId },
        later(),
      );
      expect(found).toEqual({ kind: 'running', nodeId: relay.serviceId });
    }
    // Answered before the nodes stop: a stop waits for the executions in flight.
    stub().release();
  }, 60_000);

  it('finds an execution for a client whose permissions refuse it the listing of the nodes', async () => {
    const server = await startNatsServer({
      config: `authorization {
        users = [
          { user: node, password: node-secret }
          { user: client, password: client-secret, permissions: { publish: { deny: ["$SRV.PING.tether", "$SRV.PING"] } } }
        ]
      }`,
    });
    onTestFinished(() => server.stop());
    const llm = stubLlm();
    const node = await Runtime.start({
      onError: () => {},
      llm,
      nats: { servers: server.url, user: 'node', pass: 'node-secret' },
    });
    onTestFinished(() => node.stop());
    const session = await node.session('refused');
    await session.defineVariable('t', 'float', 0.5);
    await session.module('qa', predict);
    const client = await connectNats({ servers: server.url, user: 'client', pass: 'client-secret' });
    onTestFinished(() => client.close());
    stub().hold();
    stub().reply(text('{"answer":"ok"}'));
    const asked = stub().chatRequests.length;
    const h = headers();
    h.set('Tether-Accept-Notice', '1');
    void client
      .request(
        'tether.v1.session.refused.module.qa.execute',
        encodeJson({ inputs: { question: 'x' }, executionId: 'ex-refused' }),
        { timeout: 20_000, headers: h },
      )
      .catch(() => {});
    await waitFor(() => stub().chatRequests.length > asked, { message: 'the execution reached the model' });
    expect(await listNodes(client, createSubjects())).toEqual([]);
    const found = await takeCensus(
      client,
      createSubjects(),
      {
        sessionId: 'refused',
        moduleId: 'qa',
        executionId: 'ex-refused',
      },
      later(),
    );
    expect(found).toEqual({ kind: 'running', nodeId: node.nodeId });
    stub().release();
  }, 30_000);
});
