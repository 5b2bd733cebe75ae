/**
 * One `AbortSignal` passed to many `forward()` calls of variable-aware modules (the DSPy-like API, without a session
 * process): b622b44 made the embedded and remote module handles hold one listener on a signal shared by their
 * executions, but a module's own `forward({ abortSignal })` still added one per call, so from the eleventh forward in
 * flight Node printed `MaxListenersExceededWarning: Possible EventTarget memory leak detected` on the caller's stderr.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type LanguageModel, VariableAwarePredict } from '../../src/modules/index.js';
import { useProcessWarnings } from '../support/process-warnings.js';
import { waitFor } from '../support/wait-for.js';
import type { FakeSession } from '../support/fake-session.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { boundPredictOn, useWire } from '../support/openai-wire.js';

let stub: OpenAIStub;
let llm: LanguageModel;
let session: FakeSession;

useWire((wire) => ({ stub, llm, session } = wire));

const warningsNow = useProcessWarnings();

const FORWARDS = 20;

describe('forward() with an AbortSignal shared by many calls', () => {
  it('holds one listener on the signal, and cancels every forward when it aborts', async () => {
    const module: VariableAwarePredict = await boundPredictOn(session, llm);
    stub.hold();
    const controller = new AbortController();
    const runs = Array.from({ length: FORWARDS }, (_, i) =>
      module.forward({ question: `q${i}` }, { abortSignal: controller.signal }).catch((error: unknown) => error),
    );
    await waitFor(() => stub.chatRequests.length === FORWARDS, { message: 'every request at the provider' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('batch cancelled'));
    for (const error of await Promise.all(runs)) expect(String(error)).toMatch(/batch cancelled/);
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    expect(await warningsNow()).toEqual([]);
    stub.release();
  });

  it('leaves no listener on a signal that never aborts once the forwards end', async () => {
    const module = await boundPredictOn(session, llm);
    stub.fallback = () => text('Answer: fine');
    const { signal } = new AbortController();
    const results = await Promise.all(
      Array.from({ length: FORWARDS }, (_, i) => module.forward({ question: `q${i}` }, { abortSignal: signal })),
    );
    expect(results.map((result) => result.output)).toEqual(Array(FORWARDS).fill({ answer: 'fine' }));
    expect(getEventListeners(signal, 'abort')).toEqual([]);
    expect(await warningsNow()).toEqual([]);
  });
});
