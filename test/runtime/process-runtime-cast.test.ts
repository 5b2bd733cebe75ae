import { describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

describe('ProcessRuntime', () => {
  describe('cast', () => {
    it('delivers the event without waiting for a reply', () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      runtime.cast(ref, { type: 'increment', by: 5 });
      expect(ref.getSnapshot().context.count).toBe(5);
    });

    // Found by a review: call ids are predictable, and a cast carrying one answered another caller's call.
    it("never carries a callId to the process, so it cannot settle another caller's pending call", async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      let settled = false;
      const held = runtime.call(ref, { type: 'hold' }).then(
        (value: unknown) => ((settled = true), value),
        (error: unknown) => ((settled = true), error),
      );
      for (let n = 0; n < 100; n++) runtime.cast(ref, { type: 'get', callId: `${ref.id}#${n}` });
      runtime.cast(ref, Object.create({ type: 'get', callId: `${ref.id}#1` }) as { type: 'get' });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(settled).toBe(false);
      runtime.cast(ref, { type: 'release' });
      await expect(held).resolves.toBe('held #0');
      expect(ref.getSnapshot().context.held).toEqual([]);
    });

    it('drops the event silently when the target is dead or unknown', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'counter' });
      await runtime.stop(ref);
      expect(() => runtime.cast(ref, { type: 'increment' })).not.toThrow();
      expect(() => runtime.cast('counter', { type: 'increment' })).not.toThrow();
      // XState warns about events sent to stopped actors; the runtime never lets one reach it.
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();
    });
  });
});
