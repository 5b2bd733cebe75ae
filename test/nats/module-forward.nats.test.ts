import { createInbox, type Msg } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, createEchoModel, type ModuleTool } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { servedBy, type TestNode, type TestNodeOptions } from '../support/tether-node.js';
import { isNotice, rawReply, rawRequest as sendRaw } from '../support/raw-request.js';
import { moduleResultIds } from '../support/module-result-ids.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const enc = new TextEncoder();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function cannot be written to the modules bucket: the module stays on the node creating it. */
const localSpec = { ...predict, type: 'ReAct', tools: [echoTool] };

/** Two nodes on fresh buckets, and module `local` of session `s1` created through node A's embedded API. */
async function ownerAndOther(options: Parameters<ReturnType<typeof fx>['node']>[1], servers?: string) {
  const buckets = fx().buckets();
  const a = await fx().node(buckets, { ...options, ...(servers ? { servers } : {}) });
  const b = await fx().node(buckets, options);
  const onA = await a.runtime.session('s1');
  await onA.defineVariable('temperature', 'float', 0.5);
  await onA.module('local', { ...localSpec, bindings: { temperature: 'temperature' } });
  return { a, b, onA };
}

/** A raw request (as any NATS client sends it) whose messages, acceptance notice included, are collected. */
const rawRequest = (subject: string, body: object, withNotice = false): Msg[] =>
  sendRaw(nc(), subject, body, withNotice);

/** The reply among `received`, once it came (within `timeout` ms, `waitFor`'s 5 s by default). */
async function replyOf(received: Msg[], timeout?: number): Promise<Msg> {
  return waitFor(() => received.find((msg) => !isNotice(msg)), {
    message: 'the reply',
    ...(timeout ? { timeout } : {}),
  });
}

const errorCode = (reply: Msg): string | undefined => reply.json<{ error?: { code: string } }>().error?.code;

/**
 * Sends executions of `local` (the stub holding each at the provider) until one reached node `b`, which passed it on
 * to the owner; the others are cancelled. Resolves to that execution's id and its messages so far.
 */
async function forwardedExecution(b: TestNode, timeoutMs = 60_000): Promise<{ executionId: string; received: Msg[] }> {
  for (let i = 0; i < 30; i++) {
    const executionId = `run${i}`;
    const received = rawRequest(
      'tether.v1.session.s1.module.local.execute',
      { inputs: { question: `try ${i}` }, executionId, timeoutMs },
      true,
    );
    // Held at the provider, so every execution is announced by the node its request reached.
    await waitFor(() => received.some(isNotice), { message: `the acceptance notice of ${executionId}` });
    await waitFor(() => stubbed.stub().chatRequests.length === i + 1, { message: `${executionId} at the provider` });
    if (received.find(isNotice)!.headers!.get('Tether-Accepted-By') === b.serviceId) return { executionId, received };
    await nc().request('tether.v1.session.s1.module.local.cancel', enc.encode(JSON.stringify({ executionId })), {
      timeout: 5000,
    });
    await replyOf(received);
  }
  throw new Error('no execution reached node B in 30 tries');
}

/**
 * Owner A (its NATS options `ownerNats`, behind a proxy of its own) of module `local`, and node B behind another; an
 * execution passed on by B, held at the provider, then B cut off. `noticeLost`: the owner's acceptance notice to B
 * is lost in the same outage (A sends it late), so B does not know the owner from it.
 */
async function relayCutOffMidExecution(ownerNats: NonNullable<TestNodeOptions['nats']>, noticeLost: boolean) {
  const proxy = await startTcpProxy(fx().server.url);
  onTestFinished(() => proxy.close());
  const ownerProxy = await startTcpProxy(fx().server.url);
  onTestFinished(() => ownerProxy.close());
  const buckets = fx().buckets();
  const a = await fx().node(buckets, { llm: stubbed.llm(), nats: ownerNats, servers: ownerProxy.url });
  await (await a.runtime.session('s1')).module('local', localSpec);
  const statuses: string[] = [];
  const b = await fx().node(buckets, {
    llm: stubbed.llm(),
    servers: proxy.url,
    nats: { reconnect: { waitMs: 100 } },
    onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
  });
  stubbed.stub().hold();
  // Long enough for B to be cut off before the notice leaves the proxy; short of a ping's timeout.
  if (noticeLost) ownerProxy.delayToServer(500);
  const { executionId, received } = await forwardedExecution(b);
  proxy.cut();
  // What A sends from now on goes at once, after what it sent before (the notice included).
  ownerProxy.delayToServer(0);
  await waitFor(() => statuses.includes('disconnected'), { message: 'node B cut off' });
  return { a, executionId, received, proxy, ownerProxy };
}

/**
 * {@link relayCutOffMidExecution}, then the owner's answer while B is away, then B back. `results`: the ids of the
 * module's results heard. `ownerAwayWhenBack`: A is cut off in turn as B comes back (the test restores
 * `ownerProxy`).
 */
async function ownerRepliedWhileRelayAway(
  ownerNats: NonNullable<TestNodeOptions['nats']>,
  noticeLost: boolean,
  ownerAwayWhenBack = false,
) {
  const cutOff = await relayCutOffMidExecution(ownerNats, noticeLost);
  const results = moduleResultIds(nc(), 's1', 'local');
  await nc().flush();
  stubbed.stub().release();
  // The owner has replied to node B, which was away: that reply is lost to it.
  await waitFor(() => results.includes(cutOff.executionId), { message: "the owner's result" });
  if (ownerAwayWhenBack) cutOff.ownerProxy.cut();
  cutOff.proxy.restore();
  return { ...cutOff, results };
}

describe('requests for a module that stays on its node', () => {
  it('runs it for a client whichever node its executions reach, with the values the client wrote', async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    const session = await (await fx().client()).session('s1');
    const local = await session.module('local');
    const served = new Set<TestNode>();

    for (let i = 0; i < 20; i++) {
      const { version } = await session.setVariable('temperature', i / 20);
      const [result, node] = await servedBy([a, b], () => local.execute({ question: `call ${i}` }));
      served.add(node);
      expect(result.moduleId).toBe('local');
      expect(result.output.answer).toContain(`call ${i}`);
      expect(result.provenance).toEqual({ temperature: version });
    }

    // Both nodes took executions: each one succeeded, passed on to node A or not.
    expect(served).toEqual(new Set([a, b]));
  });

  it('passes an execution on with the longest wait the wire takes when the nodes wait for ever by default', async () => {
    // No timeoutMs in the requests: the relaying node sends its own default, which JSON would turn into null.
    const { a, b } = await ownerAndOther({ llm: createEchoModel(), executionTimeoutMs: Infinity });
    const local = await (await (await fx().client()).session('s1')).module('local');
    const served = new Set<TestNode>();
    // The queue group picks a node at random: 12 tries all land on one node once in 2,048 runs, 30 once in 500 million.
    for (let i = 0; i < 30 && served.size < 2; i++) {
      const [result, node] = await servedBy([a, b], () => local.execute({ question: `call ${i}` }));
      served.add(node);
      expect(result.output.answer).toContain(`call ${i}`);
    }
    expect(served).toEqual(new Set([a, b]));
  });

  it('passes an execution on to its owner whose connection blipped once it is back, rather than module_not_found', async () => {
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const statuses: string[] = [];
    // Owner A behind a proxy the test cuts; only node B serves the module's subjects meanwhile.
    await ownerAndOther(
      {
        llm: createEchoModel(),
        nats: { reconnect: { waitMs: 100 } },
        onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
      },
      proxy.url,
    );
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the owner cut off' });

    const received = rawRequest('tether.v1.session.s1.module.local.execute', { inputs: { question: 'still there?' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.restore();

    const reply = await replyOf(received);
    expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
    expect(reply.json<{ result: { output: { answer: string } } }>().result.output.answer).toContain('still there?');
  });

  it("describes it through either node with its node's reply; module_not_found once no node has it", async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    const session = await (await fx().client()).session('s1');
    const local = await session.module('local');
    const served = new Set<TestNode>();
    for (let i = 0; i < 20; i++) {
      const [description, node] = await servedBy([a, b], () => local.describe());
      served.add(node);
      expect(description).toMatchObject({ moduleId: 'local', sessionId: 's1', state: 'idle' });
    }
    expect(served).toEqual(new Set([a, b]));

    // On the wire, node B's answer is the owner's reply: the result, and both revisions.
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      const [reply, node] = await servedBy([a, b], async () =>
        replyOf(rawRequest('tether.v1.session.s1.module.local.describe', {})),
      );
      reachedB = node === b;
      expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      const body = reply.json<{ result: { moduleId: string }; revision: number; modulesRevision: number }>();
      expect(body.result.moduleId).toBe('local');
      expect(body.revision).toBeGreaterThan(0);
      expect(body.modulesRevision).toEqual(expect.any(Number));
    }

    for (let i = 0; i < 10; i++) {
      await expect(session.module('ghost')).rejects.toMatchObject({ code: 'module_not_found' });
      const reply = await replyOf(
        rawRequest('tether.v1.session.s1.module.ghost.execute', { inputs: { question: 'anyone?' } }),
      );
      expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('404');
      expect(errorCode(reply)).toBe('module_not_found');
    }

    // The owner stops: its module is gone with it, through the node left too.
    await a.stop();
    for (let i = 0; i < 5; i++) {
      await expect(local.describe()).rejects.toMatchObject({ code: 'module_not_found' });
      await expect(local.execute({ question: 'still there?' }, { timeoutMs: 60_000 })).rejects.toMatchObject({
        code: 'module_not_found',
      });
    }
  });

  it('answers inputs too deep to pass on with module_not_found when no node has the module, else validation_failed', async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    // Parsed by the node, but too deep for JSON.stringify to write again: 2,000 levels it still writes.
    const deep = (levels: number) => `{"inputs":{"question":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
    for (const levels of [2_000, 5_000, 50_000]) {
      const reply = await rawReply(nc(), 'tether.v1.session.s1.module.ghost.execute', deep(levels));
      expect(reply.errorCode, `${levels} levels`).toBe('404');
      expect(reply.body.error, `${levels} levels`).toMatchObject({ code: 'module_not_found' });
    }
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      // Node B first: a request B passes on counts on the owner too.
      const [reply, node] = await servedBy([b, a], () =>
        rawReply(nc(), 'tether.v1.session.s1.module.local.execute', deep(5_000)),
      );
      reachedB = node === b;
      expect(reply.body.error?.code).not.toBe('internal_error');
      if (!reachedB) continue;
      expect(reply.errorCode).toBe('400');
      expect(reply.body.error).toMatchObject({
        code: 'validation_failed',
        details: { sessionId: 's1', moduleId: 'local', constraint: 'depth' },
      });
      expect(reply.body.error.message).toMatch(/nested too deep/);
    }
    // The module is still there, and runs for a client whichever node its execution reaches.
    const local = await (await (await fx().client()).session('s1')).module('local');
    expect((await local.execute({ question: 'still here?' })).output.answer).toContain('still here?');
  });

  it('wakes it, hibernated on its node, for an execution that reached another node', async () => {
    // Idle for 40 ms, the module hibernates on node A: its process goes, the module stays there.
    const { a, b } = await ownerAndOther({ llm: createEchoModel(), hibernateAfterMs: 40 });
    const session = await (await fx().client()).session('s1');
    const local = await session.module('local');
    const name = moduleProcessName('s1', 'local');

    // An execution that reached node A itself would wake it there: tried again until one reached node B.
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      await waitFor(() => a.runtime.whereis(name) === undefined, { message: 'the module hibernates on node A' });
      const [result, node] = await servedBy([b, a], () => local.execute({ question: `call ${i}` }));
      reachedB = node === b;
      expect(result.output.answer).toContain(`call ${i}`);
    }
  });

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

  it('times an execution passed on to the owner out at the timeout its caller gave, with call_timeout', async () => {
    const { b } = await ownerAndOther({ llm: stubbed.llm() });
    stubbed.stub().delayMs = 30_000;
    const { received } = await forwardedExecution(b, 1_500);

    const reply = await replyOf(received);

    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('504');
    expect(errorCode(reply)).toBe('call_timeout');
    expect(reply.json<{ error: { details: { timeoutMs: number } } }>().error.details.timeoutMs).toBe(1_500);
  }, 30_000);

  it.each([
    ['', false],
    [', its acceptance notice lost too (the claim names the owner)', true],
  ])(
    "relays the owner's result that was lost while the relaying node was cut off, once that node is back%s",
    async (_, noticeLost) => {
      const { executionId, received, results } = await ownerRepliedWhileRelayAway({}, noticeLost);

      // The execution's timeout is 60 s, the test's 30 s: only the owner's kept reply can answer in time.
      const reply = await replyOf(received);
      expect(reply.json<{ result: { executionId: string; output: unknown } }>().result).toMatchObject({
        executionId,
        output: { answer: 'stub answer' },
      });
      // That very run: the owner ran it once.
      expect(results.filter((id) => id === executionId)).toHaveLength(1);
    },
    30_000,
  );

  it("relays the owner's kept result once the owner, silent when the relaying node came back without its notice, answers a ping", async () => {
    const { executionId, received, ownerProxy } = await ownerRepliedWhileRelayAway(
      { reconnect: { waitMs: 100 } },
      true,
      true,
    );
    // B's question to the owner its claim names finds nobody; the owner is back before its pings count it lost.
    await new Promise((resolve) => setTimeout(resolve, 500));
    ownerProxy.restore();

    const reply = await replyOf(received, 15_000);
    expect(reply.json<{ result: { executionId: string } }>().result).toMatchObject({ executionId });
  }, 30_000);

  it.each([
    ['', false],
    [', its acceptance notice lost too', true],
  ])(
    'answers execution_unknown, not module_not_found, when the owner no longer has the reply the relay lost%s',
    async (_, noticeLost) => {
      const { executionId, received, a } = await ownerRepliedWhileRelayAway(
        { executionReplies: { maxCount: 0 } },
        noticeLost,
      );

      const reply = await replyOf(received);
      expect(errorCode(reply)).toBe('execution_unknown');
      expect(reply.json<{ error: { details: unknown } }>().error.details).toMatchObject({
        executionId,
        moduleId: 'local',
        nodeId: a.serviceId,
      });
    },
    30_000,
  );

  it('fails with node_lost an execution whose relaying node was cut off and lost the owner notice, once it finds the owner gone', async () => {
    const { a, received, proxy, ownerProxy } = await relayCutOffMidExecution({}, true);
    // The owner is gone for good; B is back, and the claim names the owner, which answers nothing.
    ownerProxy.cut();
    proxy.restore();

    // The execution's timeout is 60 s: only B's watch of the owner, from when it found it silent, ends it in time.
    const reply = await replyOf(received, 20_000);
    expect(errorCode(reply)).toBe('node_lost');
    expect(reply.json<{ error: { details: unknown } }>().error.details).toMatchObject({ nodeId: a.serviceId });
    // Back, so that it stops promptly with the test.
    ownerProxy.restore();
  }, 30_000);

  it('fails an execution passed on to an owner that is lost with node_lost naming it, long before its timeout', async () => {
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    // Node A, the owner, reaches NATS through a proxy the test cuts: to the others it is as gone as a killed node.
    const { a, b } = await ownerAndOther({ llm: stubbed.llm() }, proxy.url);
    stubbed.stub().delayMs = 10_000;
    const { executionId, received } = await forwardedExecution(b);

    proxy.cut();

    // The execution's timeout is 60 s, the test's 30 s; node_lost takes two missed pings of 2 s each and their round
    // trips, some 4 s, more on a loaded machine.
    const reply = await replyOf(received, 15_000);
    expect(errorCode(reply)).toBe('node_lost');
    expect(reply.json<{ error: { details: unknown } }>().error.details).toMatchObject({
      nodeId: a.serviceId,
      executionId,
      moduleId: 'local',
    });
    // No node has the module now: the next request says so at once.
    const session = await (await fx().client()).session('s1');
    await expect(session.module('local')).rejects.toMatchObject({ code: 'module_not_found' });
    // Node A back, so that it can stop (its execution ends with the provider's delay).
    proxy.restore();
  }, 30_000);
});
