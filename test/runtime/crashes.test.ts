import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { createMachine, fromCallback, fromPromise, setup } from 'xstate';
import { reply, type CallEnvelope } from '../../machines/protocol.js';
import { ProcessExitedError } from '../../src/errors.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** Collects what reaches Node's uncaught-exception path, where XState rethrows errors nobody observed. */
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);

beforeEach(() => {
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
});

afterEach(async () => {
  // XState rethrows unobserved errors in a setTimeout; give any such timer the chance to fire first.
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('uncaughtException', onUncaught);
  expect(uncaught).toEqual([]);
});

describe('ProcessRuntime', () => {
  describe('crashes', () => {
    it('survives a crashing action: the caller gets ProcessExitedError, onError is told, others keep serving', async () => {
      const onError = vi.fn();
      const runtime = createRuntime({ onError });
      const fragile = runtime.spawn(counterMachine, { name: 'fragile' });
      const steady = runtime.spawn(counterMachine, { name: 'steady' });

      const error = await runtime.call('fragile', { type: 'crash' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcessExitedError);
      expect(error).toMatchObject({ target: 'fragile', reason: 'crash: boom' });
      expect((error as Error).cause).toEqual(new Error('boom'));
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError).toHaveBeenCalledWith(new Error('boom'), fragile);
      expect(fragile.exitReason).toEqual({ error: new Error('boom') });

      await expect(runtime.call(steady, { type: 'increment' })).resolves.toBe(1);
      expect(runtime.spawn(counterMachine).alive).toBe(true);
    });

    // Found by a README audit: the README (and machines/protocol.ts) promise this of XState's emitted events, which
    // it hands out once the transition is over; no test held it, so a change there would have let the reply through.
    it('gives ProcessExitedError, not the reply, when a transition replies and then crashes', async () => {
      const runtime = createRuntime({ onError: () => {} });
      const replyThenCrash = setup({
        types: { events: {} as CallEnvelope & { type: 'go' } },
        actions: {
          answer: reply(() => 'answered'),
          explode: () => {
            throw new Error('after the reply');
          },
        },
      }).createMachine({ on: { go: { actions: ['answer', 'explode'] } } });
      const ref = runtime.spawn(replyThenCrash, { name: 'replier' });

      const error = await runtime.call(ref, { type: 'go' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcessExitedError);
      expect(error).toMatchObject({ target: 'replier', reason: 'crash: after the reply' });
      expect(ref.exitReason).toEqual({ error: new Error('after the reply') });
    });

    it('keeps running when onError itself throws', async () => {
      const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
      const runtime = createRuntime({
        onError: () => {
          throw new Error('reporter broke');
        },
      });
      const ref = runtime.spawn(counterMachine);
      runtime.cast(ref, { type: 'crash' });
      expect(ref.alive).toBe(false);
      expect(errorLog).toHaveBeenCalled();
      expect(runtime.spawn(counterMachine).alive).toBe(true);
      errorLog.mockRestore();
    });

    it('records a crash when an invoked child fails and the machine does not handle it', async () => {
      const onError = vi.fn();
      const runtime = createRuntime({ onError });
      const parent = runtime.spawn(
        createMachine({ invoke: { src: fromPromise(async () => Promise.reject(new Error('child failed'))) } }),
      );
      await expect(parent.exited).resolves.toEqual({ error: new Error('child failed') });
      expect(onError).toHaveBeenCalledWith(new Error('child failed'), parent);
    });

    it('records a crash for non-machine logic: a rejected promise, a throwing callback', async () => {
      const runtime = createRuntime();
      const promise = runtime.spawn(fromPromise(async () => Promise.reject(new Error('rejected'))));
      const callback = runtime.spawn(
        fromCallback(() => {
          throw new Error('callback threw');
        }),
      );
      await expect(promise.exited).resolves.toEqual({ error: new Error('rejected') });
      expect(callback.exitReason).toEqual({ error: new Error('callback threw') });
    });
  });
});
