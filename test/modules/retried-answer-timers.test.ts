import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLanguageModel, Runtime } from '../../src/index.js';
import { httpError, text, useOpenAIStub } from '../support/openai-stub.js';

const { stub } = useOpenAIStub();

/** Every timer of at least `minMs` set while `watch` runs, to see which of them outlive what set them. */
async function longTimersOf(minMs: number, watch: () => Promise<void>): Promise<NodeJS.Timeout[]> {
  const real = globalThis.setTimeout;
  const timers: NodeJS.Timeout[] = [];
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    fn: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer = real(fn, ms, ...args);
    if ((ms ?? 0) >= minMs) timers.push(timer);
    return timer;
  }) as typeof setTimeout);
  try {
    await watch();
  } finally {
    spy.mockRestore();
  }
  return timers;
}

/** Whether a timer is still pending (neither cleared nor fired) and holds the event loop. */
const pending = (timer: NodeJS.Timeout): boolean =>
  !(timer as unknown as { _destroyed: boolean })._destroyed && timer.hasRef();

afterEach(() => vi.restoreAllMocks());

/**
 * `httpRetries` (ProviderConfig) has Ax send a 5xx again, dropping the failed response unread. The answer deadline
 * (answer-deadline.ts) must not leave a timer of the model's `timeoutMs` (300 s by default) on that body: a script or
 * test process that stopped its runtime would stay alive for minutes, holding the dropped response.
 */
describe('a provider request that httpRetries sends again after a 5xx', () => {
  it.each([
    ['a JSON 500', httpError(500, 'The server had an error')],
    ['an HTML 503', { kind: 'raw', status: 503, body: '<html>busy</html>' } as const],
  ])('leaves no timer pending once the execution ended and the runtime stopped (%s)', async (_, failure) => {
    const llm = createLanguageModel({
      provider: 'openai',
      url: stub().url,
      key: 'k',
      model: 'm',
      httpRetries: 1,
      timeoutMs: 60_000,
    });
    const timers = await longTimersOf(30_000, async () => {
      const runtime = await Runtime.start({ llm });
      try {
        const qa = await (
          await runtime.session('retried')
        ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
        stub().reply(failure, text('Answer: ok'));
        expect((await qa.execute({ question: 'q' })).output).toEqual({ answer: 'ok' });
        expect(stub().chatRequests).toHaveLength(2);
      } finally {
        await runtime.stop();
      }
    });
    expect(timers.length).toBeGreaterThan(0);
    expect(timers.filter(pending)).toHaveLength(0);
  });
});
