import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError } from '../../src/index.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import type { TestNodeOptions } from '../support/tether-node.js';
import { moduleResultIds } from '../support/module-result-ids.js';
import { waitFor } from '../support/wait-for.js';
import { errorCode, localSpec, replyOf, useModuleForwardNodes } from '../support/module-forward-nodes.js';

const { fx, nc, stubbed, ownerAndOther, forwardedExecution } = useModuleForwardNodes();

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
