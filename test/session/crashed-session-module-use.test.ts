/**
 * README, idle expiry: "a module's execution is a use of its session until it ends", and "a crashed … session comes
 * back on next use and its modules go on". On an embedded runtime a session whose process crashed is kept on the
 * idle clock (dormant) and expired when idle; the executions of its modules must count as uses of it, as they do while
 * its process runs (and as a NATS node counts a module woken alone).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { crashOnWrite, createFaultyStore } from '../support/faulty-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A module that binds no variable: its sync reads nothing of the session. */
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const TTL_MS = 400;

describe('a module used while its session’s process is crashed (embedded)', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('keeps the session alive while the module is executed again and again', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, llm: createEchoModel(), sessionTtlMs: TTL_MS, onError: () => {} });
    const session = await runtime.session('used');
    await session.defineVariable('x', 'integer', 1);
    const qa = await session.module('qa', QA);
    await crashOnWrite(session, 'x', faults);

    // Executed every 100 ms for five TTLs: the session is in use all along (each execution a use of it until it
    // ends), so it must neither expire nor take its module and its variables with it.
    const outcomes: string[] = [];
    const until = Date.now() + 5 * TTL_MS;
    while (Date.now() < until) {
      outcomes.push(
        await qa.execute({ question: 'still there?' }).then(
          () => 'ok',
          (error: { code?: string }) => String(error.code),
        ),
      );
      await sleep(100);
    }
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
    // The variable written before the crash is still there.
    await expect(session.getVariable('x')).resolves.toBe(1);
  });
});
