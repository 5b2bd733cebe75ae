/**
 * A module's execution is a use of its session until it ends (README, idle expiry), also when the module was woken
 * alone: on a NATS node whose session process hibernated, an embedded module handle wakes the module without the
 * session, and the node still counts each execution, and a long one all along, as a use of the session.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const { stub, llm } = useOpenAIStub();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A module that binds no variable: its sync reads nothing of the session. */
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

describe('a module executed through a node’s embedded handle is a use of its session', () => {
  it('keeps a session alive while its module is executed again and again, its session process hibernating between', async () => {
    const buckets = fx().buckets();
    // Nodes stamp each session's use every 150 ms: an idle session expires 750 to 1050 ms after its last use. Node A
    // lets an idle session's process go soon (as a node serving many short sessions would); node B scans too.
    const ttl = { sessionTtlMs: 600, llm: createEchoModel() };
    const a = await fx().runtime(buckets, { ...ttl, hibernateAfterMs: 50 });
    await fx().runtime(buckets, ttl);
    const session = await a.session('busy');
    const qa = await session.module('qa', QA);

    // Executed every 150 ms for 3 s, five TTLs: the session is in use all along and must not expire under it.
    const outcomes: string[] = [];
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      outcomes.push(
        await qa.execute({ question: 'still there?' }).then(
          () => 'ok',
          (error: { code?: string }) => String(error.code),
        ),
      );
      await sleep(150);
    }
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
    expect(await session.listVariables()).toEqual([]);
  });

  it('keeps a session alive under one execution longer than the TTL, begun after its session process hibernated', async () => {
    stub().fallback = () => text('Answer: thought long');
    const buckets = fx().buckets();
    const ttl = { sessionTtlMs: 400, llm: llm() };
    const a = await fx().runtime(buckets, { ...ttl, hibernateAfterMs: 100 });
    await fx().runtime(buckets, ttl);
    const session = await a.session('long');
    const qa = await session.module('qa', QA);
    await waitFor(() => !a.sessionIds().includes('long'), { message: 'the session hibernated on node A' });

    // 2 s, five TTLs, in the model: the execution uses the session until it ends.
    stub().delayMs = 2_000;
    onTestFinished(() => {
      stub().delayMs = 0;
    });
    await expect(qa.execute({ question: 'take your time' })).resolves.toMatchObject({
      output: { answer: 'thought long' },
    });
    expect(await session.listVariables()).toEqual([]);
  });
});
