/**
 * A module created on one node while its session is deleted through another: once the session is deleted, the
 * creation or its handle says so (`session_not_found`, as the session's handle does), never `module_not_found`, and
 * nothing of the module is left, spec or process.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';
import { storedOfSession } from '../support/session-storage.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const QA = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a module created while its session is deleted on another node', () => {
  it('says the session is gone (session_not_found), through its creation or its handle, and leaves nothing', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { llm: createEchoModel() });
    const b = await fx().runtime(buckets, { llm: createEchoModel() });
    const wrong: string[] = [];
    for (let round = 0; round < 12; round++) {
      const id = `s${round}`;
      const onA = await a.session(id);
      await onA.defineVariable('x', 'integer', 1);
      const onB = await b.session(id);
      // The deletion starts first; the creation on node B a moment later (0 to 5 ms), while it is under way.
      const deleted = onA.delete();
      await sleep(round % 6);
      const created = onB.module('qa', QA);
      created.catch(() => {}); // judged below, once the deletion resolved
      await deleted;
      const creation = await settledCode(created);
      // Whichever came first, once the session is deleted its module's handle says so, as the session's does.
      const handle = creation === 'resolved' ? await created : undefined;
      const execute = handle ? await settledCode(handle.execute({ question: 'alive?' })) : creation;
      // What the deletion leaves behind is cleaned up after it resolved: given time, not a guess of how much.
      const leftover = async () => {
        const stored = await storedOfSession(nc(), buckets, id);
        return { stored, running: b.whereis(moduleProcessName(id, 'qa')) !== undefined };
      };
      await waitFor(async () => {
        const { stored, running } = await leftover();
        return stored.modules === 0 && !running;
      }).catch(() => {}); // what is left is told below, with the round's other outcomes
      const { stored, running } = await leftover();
      if (execute !== 'session_not_found' || stored.modules !== 0 || running)
        wrong.push(
          `${id}: creation ${String(creation)}, then ${String(execute)}; specs ${stored.modules}, process ${running}`,
        );
    }
    expect(wrong).toEqual([]);
  });
});
