import { headers, type Msg } from 'nats';
import { describe, expect, it } from 'vitest';
import { takeCensus } from '../../src/nats/execution-census.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { executionsRun } from '../support/executions-run.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();
const spec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };
const EXECUTE = 'tether.v1.session.searched.module.qa.execute';

/** A node serving module `qa` of session `searched`, its LLM the stub. */
async function nodeWithModule() {
  const node = await fx().node(fx().buckets(), { llm: llm() });
  await (await node.runtime.session('searched')).module('qa', spec);
  return node;
}

/** A census of `executionId`, as the remote client takes one: its caller waits a minute more. */
function census(executionId: string) {
  const execution = { sessionId: 'searched', moduleId: 'qa', executionId };
  return takeCensus(nc(), createSubjects(), execution, Date.now() + 60_000);
}

/** Asks the node `nodeId` by name about `executionId` as a census the caller may conclude from asks it: `unknown`. */
async function askSearching(nodeId: string, executionId: string): Promise<void> {
  const subject = `tether.v1.node.${nodeId}.searched.module.qa.outcome`;
  const deadline = ['Tether-Search-Deadline', String(Date.now() + 60_000)] as [string, string];
  expect((await rawReply(nc(), subject, JSON.stringify({ executionId }), deadline)).body).toEqual({
    outcome: 'unknown',
  });
}

/**
 * Executes `executionId` as any NATS client would, with a `Tether-Deadline` saying it left `leftMsAgo` ago for a
 * wait of two minutes (a node that takes it now took it that late).
 */
function executeSent(executionId: string, leftMsAgo: number): Promise<Msg> {
  const h = headers();
  h.set('Tether-Deadline', `${Date.now() - leftMsAgo + 120_000}/120000`);
  const body = JSON.stringify({ inputs: { question: 'q' }, executionId });
  return nc().request(EXECUTE, new TextEncoder().encode(body), { timeout: 10_000, headers: h });
}

describe('an execution a census searched for (Tether-Search-Deadline)', () => {
  it('is refused unrun by a node that takes it more than 8 s after it left, once a census found no record of it there', async () => {
    await nodeWithModule();
    const ran = executionsRun(nc(), 'searched', 'qa');
    await nc().flush();
    expect(await census('ex-searched')).toMatchObject({ kind: 'nobody' });
    const asked = stub().chatRequests.length;

    const reply = await executeSent('ex-searched', 9_000);
    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('500');
    const { error } = reply.json<{ error: { code: string; message: string; details: Record<string, unknown> } }>();
    expect(error.code).toBe('execution_aborted');
    expect(error.details).toMatchObject({ executionId: 'ex-searched', moduleId: 'qa', outcome: 'not_applied' });
    expect(error.message).toMatch(
      /more than 8 s after it left \(it stalled\), after its caller had asked every node for it and this node had no record/,
    );
    await nc().flush();
    expect(stub().chatRequests.length).toBe(asked);
    expect(ran).not.toContain('ex-searched');
  });

  it('is refused by a node that would pass it on to the node its module stays on, which would take it as just sent', async () => {
    const buckets = fx().buckets();
    const owner = await fx().node(buckets, { llm: llm() });
    // A module with a tool of its own stays on the node that created it: the other node passes its executions on.
    const tool = { name: 'echo', description: 'Repeats its input', func: (args: unknown) => args };
    const react = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [tool], maxRetries: 0 };
    await (await owner.runtime.session('searched')).module('qa', react);
    const relay = await fx().node(buckets, { llm: llm() });
    const ran = executionsRun(nc(), 'searched', 'qa');
    await nc().flush();
    // Until the other node takes one (the queue group picks the node), as the reply it keeps tells: it is refused
    // there, not passed on.
    let relayed = false;
    for (let i = 0; i < 30 && !relayed; i++) {
      // Asked of each node by name, as a census does once it has listed them (without waiting out the listing).
      for (const node of [owner, relay]) await askSearching(node.serviceId, `ex-relayed-${i}`);
      const reply = await executeSent(`ex-relayed-${i}`, 9_000);
      expect(reply.json()).toMatchObject({ error: { code: 'execution_aborted', details: { outcome: 'not_applied' } } });
      const kept = await nc().request(
        `tether.v1.node.${relay.serviceId}.searched.module.qa.outcome`,
        new TextEncoder().encode(JSON.stringify({ executionId: `ex-relayed-${i}` })),
        { timeout: 5_000 },
      );
      relayed = kept.headers?.get('Tether-Execution-Outcome') === 'finished';
    }
    expect(relayed, 'an execution taken by the node that would pass it on').toBe(true);
    await nc().flush();
    expect(stub().chatRequests).toHaveLength(0);
    expect(ran).toEqual([]);
  });

  it('is not refused, passed on, by the node its module stays on: the node that passed it on judged it', async () => {
    const owner = await fx().node(fx().buckets(), { llm: llm() });
    const tool = { name: 'echo', description: 'Repeats its input', func: (args: unknown) => args };
    const react = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [tool], maxRetries: 0 };
    await (await owner.runtime.session('searched')).module('qa', react);
    stub().reply(text('Answer: passed on'));
    await askSearching(owner.serviceId, 'ex-passed');
    // As a node passing it on sends it, late by this node's reckoning (it stalled with it).
    const h = headers();
    h.set('Tether-Deadline', `${Date.now() - 9_000 + 120_000}/120000`);
    const body = JSON.stringify({ inputs: { question: 'q' }, executionId: 'ex-passed', timeoutMs: 60_000 });
    const reply = await nc().request('tether.v1.forward.searched.module.qa.execute', new TextEncoder().encode(body), {
      timeout: 10_000,
      headers: h,
    });
    expect(reply.json()).toMatchObject({ result: { executionId: 'ex-passed' } });
  });

  it('runs when taken in time though a census asked for it, and when taken late with no census', async () => {
    await nodeWithModule();
    stub().reply(text('Answer: timely'));
    stub().reply(text('Answer: unsearched'));
    await census('ex-timely');
    // Its caller has not given up: a census that finds it nowhere counts only 10 s after it left.
    expect((await executeSent('ex-timely', 0)).json()).toMatchObject({ result: { output: { answer: 'timely' } } });
    // Late, but nobody searched for it: a caller whose connection was down sends it late, and still waits for it.
    expect((await executeSent('ex-unsearched', 9_000)).json()).toMatchObject({
      result: { output: { answer: 'unsearched' } },
    });
  });

  it('is left to run by a census question without the header, such as one after a reconnect', async () => {
    const node = await nodeWithModule();
    stub().reply(text('Answer: asked plainly'));
    const outcome = `tether.v1.node.${node.serviceId}.searched.module.qa.outcome`;
    expect((await rawReply(nc(), outcome, '{"executionId":"ex-plain"}')).body).toEqual({ outcome: 'unknown' });
    expect((await executeSent('ex-plain', 9_000)).json()).toMatchObject({
      result: { output: { answer: 'asked plainly' } },
    });
  });

  it('refuses a census question whose Tether-Search-Deadline is not ms since 1970, and notes nothing', async () => {
    const node = await nodeWithModule();
    const cases = [
      [node.serviceId, 'soon', 'ms since 1970 in decimal digits'],
      // Seconds for milliseconds (a Python int(time.time())) would lapse at once, and protect nothing.
      [node.serviceId, String(Math.floor(Date.now() / 1000) + 120), 'ms since 1970, not seconds'],
      // Asked of every node, where a node without the execution stays silent, every node refuses it so.
      ['all', 'soon', 'ms since 1970 in decimal digits'],
    ];
    for (const [i, [addressee, value, rule]] of cases.entries()) {
      stub().reply(text('Answer: ran'));
      const outcome = `tether.v1.node.${addressee}.searched.module.qa.outcome`;
      const question = `{"executionId":"ex-bad-${i}"}`;
      const refused = await rawReply(nc(), outcome, question, ['Tether-Search-Deadline', value!]);
      expect(refused.errorCode).toBe('400');
      expect(refused.body.error).toMatchObject({
        code: 'validation_failed',
        message: `header Tether-Search-Deadline must be ${rule}, got '${value}'`,
      });
      expect((await executeSent(`ex-bad-${i}`, 9_000)).json()).toMatchObject({ result: { output: { answer: 'ran' } } });
    }
  });
});
