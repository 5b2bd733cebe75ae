import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { kvStream } from '../../src/nats/kv-bucket.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { rawReply } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';
import { errorCode, localSpec, replyOf, useModuleForwardNodes } from '../support/module-forward-nodes.js';

const { fx, nc, ownerAndOther, rawRequest } = useModuleForwardNodes();

/**
 * Owner A (of module `local`) behind a proxy, cut off once both nodes run: only node B serves the module's subjects
 * until the test restores the proxy.
 */
async function ownerCutOff(): Promise<TcpProxy> {
  const proxy = await startTcpProxy(fx().server.url);
  onTestFinished(() => proxy.close());
  const statuses: string[] = [];
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
  return proxy;
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

  it("has its owner wait for the client's revision when another node passes an execution on", async () => {
    // Owner A hears of the bucket's writes late: only the revision passed on with the request makes it wait for them.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('$KV.'));
    onTestFinished(() => proxy.close());
    const { a, b } = await ownerAndOther({ llm: createEchoModel() }, proxy.url);
    proxy.lag(300);
    const client = await fx().client();
    const session = await client.session('s1');
    const local = await session.module('local');

    let passedOn = 0;
    for (let i = 0; passedOn < 3; i++) {
      expect(i, 'writes and executions until three of each pair reached node B').toBeLessThan(60);
      // A write through A is one A has applied: only one through B leaves A behind the client when B passes it on.
      const [{ version }, writer] = await servedBy([b, a], () => session.setVariable('temperature', (i % 20) / 20));
      // B listed first: a request B took counts there, whatever A counts for what B passed on.
      const [result, node] = await servedBy([b, a], () => local.execute({ question: `call ${i}` }));
      expect(result.provenance).toEqual({ temperature: version });
      if (node === b && writer === b) passedOn += 1;
    }
  }, 60_000);

  it('refuses, on the owner too, an execution bound to an ended life of the session that reached a node yet to hear it end', async () => {
    // Node B hears late of the sessions bucket's writes and of control messages: it still takes the first life as
    // current. Only the life passed on with the request tells owner A, which began the next one, not to run it.
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(
      fx().server.url,
      (subject) => subject.startsWith('$KV.') || subject.startsWith('tether.v1.control.'),
    );
    onTestFinished(() => proxy.close());
    const a = await fx().node(buckets, { llm: createEchoModel() });
    const b = await fx().node(buckets, { llm: createEchoModel(), servers: proxy.url });
    const first = await a.runtime.session('s1');
    await first.module('local', localSpec);
    const life = first.incarnation!;
    const request = (op: string, body: object) =>
      rawReply(nc(), `tether.v1.session.s1.module.local.${op}`, JSON.stringify(body), ['Tether-Incarnation', life]);
    // Node B opens the first life: it passes a describe of it on to A.
    for (let i = 0; (await servedBy([b, a], () => request('describe', {})))[1] !== b; i++)
      expect(i, 'describes until one reached node B').toBeLessThan(30);

    proxy.hold();
    await first.delete();
    const next = await a.runtime.session('s1');
    await next.module('local', localSpec);
    expect(next.incarnation).not.toBe(life);

    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i, 'executions until one reached node B').toBeLessThan(30);
      const [reply, node] = await servedBy([b, a], () => request('execute', { inputs: { question: 'old life' } }));
      reachedB = node === b;
      expect(reply.body.error?.code ?? 'it ran', `answer of node ${reachedB ? 'B' : 'A'}`).toMatch(
        /^session_(not_found|expired)$/,
      );
    }
  });

  it('has its owner wait for the modules revision the client has seen when another node passes an execution on', async () => {
    // Owner A hears of the modules bucket's writes only once the test lets it: it cannot apply the client's revision.
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.modulesBucket}.`),
    );
    onTestFinished(() => proxy.close());
    const a = await fx().node(buckets, { llm: createEchoModel(), servers: proxy.url });
    const b = await fx().node(buckets, { llm: createEchoModel() });
    await (await a.runtime.session('s1')).module('local', localSpec);
    proxy.hold();
    await (
      await b.runtime.session('s1')
    ).module('other', { type: 'Predict', signature: 'question:string -> answer:string' });
    const jsm = await nc().jetstreamManager();
    const revision = (await jsm.streams.info(kvStream(buckets.modulesBucket))).state.last_seq;

    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i, 'executions until one reached node B').toBeLessThan(30);
      const [reply, node] = await servedBy([b, a], () =>
        rawReply(nc(), 'tether.v1.session.s1.module.local.execute', '{"inputs":{"question":"seen?"}}', [
          'Tether-Min-Modules-Revision',
          String(revision),
        ]),
      );
      reachedB = node === b;
      expect(reply.body.error, `answer of node ${reachedB ? 'B' : 'A'}`).toMatchObject({
        code: 'call_timeout',
        message: `waiting for the node to apply modules revision ${revision} timed out after 2000 ms; nothing of it was applied`,
      });
    }
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
    const proxy = await ownerCutOff();

    const received = rawRequest('tether.v1.session.s1.module.local.execute', { inputs: { question: 'still there?' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.restore();

    const reply = await replyOf(received);
    expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
    expect(reply.json<{ result: { output: { answer: string } } }>().result.output.answer).toContain('still there?');
  });

  it('does not pass an execution on to its owner once it is back when a cancel of it came meanwhile', async () => {
    const proxy = await ownerCutOff();

    // Node B takes it, finds no owner subscribed, and sends it again while the owner may be coming back.
    const executionId = 'cancelled-while-owner-away';
    const received = rawRequest('tether.v1.session.s1.module.local.execute', {
      inputs: { question: 'still wanted?' },
      executionId,
    });
    const body = new TextEncoder().encode(JSON.stringify({ executionId, reason: 'not any more' }));
    await nc().request('tether.v1.session.s1.module.local.cancel', body, { timeout: 5000 });
    proxy.restore();

    const reply = await replyOf(received);
    expect(reply.json<{ error?: { code: string; details: object } }>().error).toMatchObject({
      code: 'execution_aborted',
      details: { outcome: 'not_applied' },
    });
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

  it("answers an execution that outgrows the server's max_payload as it is passed on with validation_failed naming the module", async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    // A body the server just carries: the node passing it on adds the executionId and timeoutMs the client left out.
    const limit = nc().info!.max_payload;
    const empty = '{"inputs":{"question":""}}';
    const body = `{"inputs":{"question":"${'x'.repeat(limit - empty.length - 16)}"}}`;
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      const [reply, node] = await servedBy([b, a], () =>
        rawReply(nc(), 'tether.v1.session.s1.module.local.execute', body),
      );
      reachedB = node === b;
      expect(reply.body.error?.code).not.toBe('internal_error');
      if (!reachedB) continue;
      expect(reply.errorCode).toBe('400');
      expect(reply.body.error).toMatchObject({
        code: 'validation_failed',
        // As a client whose own request is too large is told: the constraint, and that it did not run.
        details: { sessionId: 's1', moduleId: 'local', constraint: 'maxPayload', outcome: 'not_applied' },
      });
      expect(reply.body.error.message).toBe(
        "passing execute of module 'local' in session 's1' on to its node: the request exceeds the server's max_payload",
      );
    }
    // Node B still passes on an execution that fits.
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      const [reply, node] = await servedBy([b, a], () =>
        rawReply(nc(), 'tether.v1.session.s1.module.local.execute', '{"inputs":{"question":"small"}}'),
      );
      reachedB = node === b;
      expect(reply.body.result?.output.answer).toContain('small');
    }
  });

  it("relays the owner's error reply with its error headers, as the owner sent it", async () => {
    const { a, b } = await ownerAndOther({ llm: createEchoModel() });
    for (let reachedB = false, i = 0; !reachedB; i++) {
      expect(i).toBeLessThan(30);
      const [reply, node] = await servedBy([b, a], () =>
        rawReply(nc(), 'tether.v1.session.s1.module.local.execute', '{"inputs":{"question":5}}'),
      );
      reachedB = node === b;
      // A raw client reads the micro error headers: through node B as from the owner itself.
      expect(reply.errorCode).toBe('400');
      expect(reply.body.error).toMatchObject({ code: 'validation_failed' });
    }
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
});
