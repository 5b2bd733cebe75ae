import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ProcessRuntime, Runtime, createEchoModel } from '../../src/index.js';
import { counterMachine } from '../runtime/fixtures.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * A user's callback may be an `async` function: a promise it returns that rejects must be reported as its throw is,
 * never left to Node as an unhandled rejection (which ends a Node 20 process).
 */
describe('async callbacks that reject', () => {
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => void process.off('unhandledRejection', onUnhandled));

  /** The messages of `errors`, once there are `count`; none left to Node. */
  async function reported(errors: unknown[], count: number): Promise<string[]> {
    await waitFor(() => errors.length >= count, { message: `${count} errors reported` });
    // A rejection left unhandled would be told to Node within a turn or two.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    return errors.map((error) => (error as Error).message);
  }

  it('monitor listeners and onError of a process runtime', async () => {
    const errors: unknown[] = [];
    const runtime = new ProcessRuntime({ onError: (error) => void errors.push(error) });
    const watched = runtime.spawn(counterMachine);
    runtime.monitor(watched, async () => {
      throw new Error('monitor listener failed');
    });
    runtime.cast(watched, { type: 'crash' });
    expect(await reported(errors, 2)).toContain('monitor listener failed');

    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => logged.mockRestore());
    const failing = new ProcessRuntime({
      onError: async () => {
        throw new Error('log sink down');
      },
    });
    failing.cast(failing.spawn(counterMachine), { type: 'crash' });
    await waitFor(() => logged.mock.calls.length > 0, { message: 'the failing onError logged' });
    expect(logged.mock.calls[0]?.[0]).toBe('[tether] onError threw while reporting');
    expect(String(logged.mock.calls[0]?.[2])).toContain('log sink down');
    expect(unhandled).toEqual([]);
  });

  it("variable watchers and module listeners, embedded, on a node's own session and through the client", async () => {
    const errors: unknown[] = [];
    const where = new Map<string, string>();
    const onError = (error: unknown, at: string): void => {
      errors.push(error);
      where.set((error as Error).message, at);
    };
    const embedded = await Runtime.start({ onError, llm: createEchoModel() });
    onTestFinished(() => embedded.stop());
    await fx().runtime(fx().buckets(), { onError: () => {} });
    const client = await fx().client({ onError });
    const sessions = [await embedded.session('a'), await client.session('a')];
    for (const [i, session] of sessions.entries()) {
      await session.defineVariable('t', 'float', 0.5);
      await session.watchVariables('t', async (change) => {
        throw new Error(`watcher ${i} failed on v${change.version}`);
      });
      const qa = await session.module('qa', { type: 'Predict', signature: 'question -> answer' });
      qa.on('module.result', async () => {
        throw new Error(`result listener ${i} failed`);
      });
      qa.onState(async (state) => {
        if (state === 'executing') throw new Error(`state listener ${i} failed`);
      });
      await session.setVariable('t', 0.6);
      await qa.execute({ question: 'q' });
    }
    const messages = await reported(errors, 6);
    for (const i of [0, 1]) {
      expect(messages).toContain(`watcher ${i} failed on v2`);
      expect(messages).toContain(`result listener ${i} failed`);
      expect(messages).toContain(`state listener ${i} failed`);
      // Named alike on both sides, so that one log search finds them.
      expect(where.get(`result listener ${i} failed`)).toBe('listener of module qa');
      expect(where.get(`state listener ${i} failed`)).toBe('listener of module qa');
      expect(where.get(`watcher ${i} failed on v2`)).toBe('watcher of session a');
    }
  }, 30_000);

  it('an inspector', async () => {
    const errors: unknown[] = [];
    const runtime = await Runtime.start({
      onError: (error) => void errors.push(error),
      inspect: async (event) => {
        if (event.type === '@xstate.snapshot') throw new Error('inspector failed');
      },
    });
    onTestFinished(() => runtime.stop());
    await (await runtime.session('i')).defineVariable('t', 'float', 0.5);
    expect(await reported(errors, 1)).toContain('inspector failed');
  });
});
