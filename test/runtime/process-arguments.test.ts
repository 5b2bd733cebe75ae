import { describe, expect, it } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { ValidationError } from '../../src/errors.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** Events that are not an object with a string `type`, as a caller might pass them by mistake. */
const badEvents: unknown[] = [{}, { type: 42 }, 'get', null, undefined, []];

describe('process-arguments', () => {
  describe('an event without a string type', () => {
    it('is refused by call with ValidationError; the target and its other callers are untouched', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'server' });
      const other = runtime.call(ref, { type: 'hold' }, { timeout: 60_000 });
      for (const event of badEvents) {
        const error = await runtime.call(ref, event as AnyEventObject).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({
          message: expect.stringContaining("call needs an event object with a string 'type'"),
        });
      }
      expect(ref.alive).toBe(true);
      runtime.cast(ref, { type: 'release' });
      await expect(other).resolves.toBe('held #0');
    });

    it('is refused by cast with ValidationError thrown, whether the target is alive or not', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'server' });
      const other = runtime.call(ref, { type: 'hold' }, { timeout: 60_000 });
      for (const event of badEvents) {
        expect(() => runtime.cast(ref, event as AnyEventObject)).toThrow(ValidationError);
        expect(() => runtime.cast('nobody', event as AnyEventObject)).toThrow(/cast needs an event object/);
      }
      expect(ref.alive).toBe(true);
      expect(ref.getSnapshot().context.count).toBe(0);
      runtime.cast(ref, { type: 'release' });
      await expect(other).resolves.toBe('held #0');
    });
  });
});
