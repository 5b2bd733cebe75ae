/**
 * One `AbortSignal` shared by many executions ("cancel this batch", "cancel all on shutdown"): each `execute` added a
 * listener of its own to it, so from the eleventh execution in flight Node printed `MaxListenersExceededWarning:
 * Possible EventTarget memory leak detected`, a false alarm on a service's stderr under load (the listeners were
 * removed as each execution ended). Embedded and remote handles alike now hold one listener on a signal, however
 * many executions share it, and still cancel every one of them when it aborts.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ModuleApi } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { useProcessWarnings } from '../support/process-warnings.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const { stub, llm } = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

const warningsNow = useProcessWarnings();

/** An embedded and a remote handle of module `qa` of session `sessionId`, on one node answering from the stub. */
async function bothKinds(sessionId: string): Promise<Record<'embedded' | 'remote', ModuleApi>> {
  const node = await fx().runtime(fx().buckets(), { llm: llm() });
  const remote = await (await (await fx().client()).session(sessionId)).module('qa', predict);
  const embedded = await (await node.session(sessionId)).module('qa');
  return { embedded, remote };
}

describe('an AbortSignal shared by many executions', () => {
  for (const kind of ['embedded', 'remote'] as const) {
    it(`cancels every one, queued or running, with one listener on the signal (${kind})`, async () => {
      const handle = (await bothKinds(`shared-${kind}`))[kind];
      stub().hold();
      const controller = new AbortController();
      const runs = Array.from({ length: 40 }, (_, i) =>
        handle.execute({ question: `q${i}` }, { signal: controller.signal }).catch((error: unknown) => error),
      );
      await waitFor(async () => (await handle.describe()).queued === 39);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort('batch cancelled');
      for (const error of await Promise.all(runs))
        expect(error).toMatchObject({ code: 'execution_aborted', details: { reason: 'batch cancelled' } });
      expect(await warningsNow()).toEqual([]);
      stub().release();
    });

    it(`leaves no listener on a signal that never aborts once its executions end (${kind})`, async () => {
      const handle = (await bothKinds(`kept-${kind}`))[kind];
      const { signal } = new AbortController();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => handle.execute({ question: `q${i}` }, { signal })),
      );
      expect(results.map((result) => result.moduleId)).toEqual(Array(40).fill('qa'));
      expect(getEventListeners(signal, 'abort')).toEqual([]);
      expect(await warningsNow()).toEqual([]);
    });
  }
});
