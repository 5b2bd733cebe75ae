/**
 * README (idle expiry): "a module's execution is a use of its session until it ends", and "a use is never lost to
 * expiry". An execution started on a node when the session's record is near its expiry takes the stamp a write takes
 * first (SessionExpiry.fresh); noted only at the node's next stamping, up to P later, it let another node's scan that
 * fell in between expire the session under the running execution.
 *
 * Deterministic timing: node A's stamping ticks are seen in the sessions bucket (a 'beacon' session read on A all the
 * time is stamped at each of them). The session's last use is made just after one A tick, so at A's fifth tick after
 * it its record is a few ms short of TTL + P old (A's own scan passes it by); the execution starts right after that
 * tick. Node B, started half a period after A, scans half a period later and finds the record due.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { KvEntry } from 'nats';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const { stub, llm } = useOpenAIStub();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A module that binds no variable. */
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

const TTL = 4_000;
const P = TTL / 4;

describe('idle expiry and a module execution started near the session’s expiry', () => {
  it('does not expire a session under an execution started on it (the execution is a use until it ends)', async () => {
    stub().fallback = () => text('Answer: done');
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { sessionTtlMs: TTL, llm: llm() });
    // B's ticks half a period after A's.
    await sleep(P / 2);
    await fx().runtime(buckets, { sessionTtlMs: TTL, llm: llm() });

    // A beacon session used on A all the time: A stamps it at each of its ticks, which the bucket shows.
    const beacon = await a.session('beacon');
    await beacon.defineVariable('b', 'integer', 0);
    let reading = true;
    void (async () => {
      while (reading) {
        await beacon.getVariable('b').catch(() => {});
        await sleep(20);
      }
    })();
    onTestFinished(() => {
      reading = false;
    });
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    const ticks: ((entry: KvEntry) => void)[] = [];
    const watch = await kv.watch({ key: 'beacon' });
    onTestFinished(() => watch.stop());
    let initial = true;
    void (async () => {
      for await (const entry of watch) {
        if (initial && entry.revision > 0 && ticks.length === 0) continue;
        initial = false;
        for (const tick of ticks.splice(0)) tick(entry);
      }
    })();
    const nextTick = () => new Promise<KvEntry>((resolve) => ticks.push(resolve));

    await nextTick();
    await nextTick();
    // The session's last use, just after an A tick.
    const session = await a.session('target');
    const qa = await session.module('qa', QA);
    await session.defineVariable('kept', 'integer', 1);
    // Five A ticks later its record is a few ms short of TTL + P old.
    for (let i = 0; i < 5; i++) await nextTick();

    stub().delayMs = 1_500;
    const outcome = await qa.execute({ question: 'still there?' }).then(
      (result) => ({ ok: true as const, answer: (result.output as { answer?: string }).answer }),
      (error: { code?: string; message?: string }) => ({
        ok: false as const,
        code: error.code,
        message: error.message,
      }),
    );
    stub().delayMs = 0;

    // It reached the model: the session was there when it started.
    expect(stub().requests.length).toBe(1);
    // The execution used the session until it ended: it finished, and the session with its variable is still there.
    expect(outcome).toEqual({ ok: true, answer: 'done' });
    expect((await a.listSessions()).ids).toContain('target');
    expect(await (await a.session('target', { create: false })).getVariable('kept')).toBe(1);
  }, 30_000);
});
