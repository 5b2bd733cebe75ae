import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import type { ProcessRef } from '../../src/runtime/index.js';
import { counterMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

describe('ProcessRuntime', () => {
  describe('stop', () => {
    it('stops with shutdown by default and settles once the process has exited', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      await runtime.stop(ref);
      expect(ref.alive).toBe(false);
      expect(ref.exitReason).toBe('shutdown');
      await expect(ref.exited).resolves.toBe('shutdown');
    });

    // Found by a review, which read stop as Process.exit(pid, :kill) (reason killed); it is GenServer.stop, as documented.
    it("exits with the reason given, 'kill' included, which its monitors and links hear as it is", async () => {
      const runtime = createRuntime();
      const victim = runtime.spawn(counterMachine);
      const trapper = runtime.spawn(counterMachine, { trapExit: true });
      const peer = runtime.spawn(counterMachine);
      runtime.link(victim, trapper);
      runtime.link(victim, peer);
      const downs: unknown[] = [];
      runtime.monitor(victim, (notice) => downs.push(notice.reason));

      await runtime.stop(victim, 'kill');

      expect(victim.exitReason).toBe('kill');
      expect(downs).toEqual(['kill']);
      expect(trapper.getSnapshot().context.exits.map((exit) => exit.reason)).toEqual(['kill']);
      expect(peer.exitReason).toEqual({ linked: victim.id, reason: 'kill' });
    });

    // Found by mutation: letting the later stop's reason overwrite the first survived every test.
    it('exits with the first reason asked for when a second stop comes before the process has exited', async () => {
      const runtime = createRuntime();
      let quit = (): void => {};
      // A stop asked for inside the process's own transition takes effect once that transition is over.
      const ref = runtime.spawn(createMachine({ on: { quit: { actions: () => quit() } } }));
      quit = () => {
        void runtime.stop(ref, 'first');
        void runtime.stop(ref, 'second');
      };
      runtime.cast(ref, { type: 'quit' });
      await expect(ref.exited).resolves.toBe('first');
      expect(ref.exitReason).toBe('first');
    });

    it('records normal when the machine reaches a final state', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      runtime.cast(ref, { type: 'finish' });
      await expect(ref.exited).resolves.toBe('normal');
    });

    it('does nothing when the target is not alive', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      await runtime.stop(ref, 'first');
      await runtime.stop(ref, 'second');
      await runtime.stop('nobody');
      expect(ref.exitReason).toBe('first');
    });

    it('stopAll stops every process newest first and waits for all of them', async () => {
      const runtime = createRuntime();
      const refs: ProcessRef[] = [1, 2, 3].map(() => runtime.spawn(counterMachine));
      const exitOrder: string[] = [];
      for (const ref of refs) ref.actor.subscribe({ complete: () => exitOrder.push(ref.id) });
      await runtime.stopAll();
      expect(exitOrder).toEqual(refs.map((ref) => ref.id).reverse());
      expect(refs.every((ref) => !ref.alive)).toBe(true);
      expect(runtime.processes()).toEqual([]);
    });

    // stopAll lists the live processes once per round (a full scan per step was quadratic): its order must still hold
    // once many processes exited out of order, and it must take in the processes spawned while the stop goes on.
    it('stopAll goes newest first after many out-of-order exits, and stops those spawned meanwhile', async () => {
      const runtime = createRuntime();
      const refs = Array.from({ length: 3000 }, () => runtime.spawn(counterMachine));
      // Two in three exit, oldest first: more than the registry lets stay in its order before compacting it.
      await Promise.all(refs.filter((_, index) => index % 3 !== 0).map((ref) => runtime.stop(ref)));
      const survivors = refs.filter((_, index) => index % 3 === 0);
      const exitOrder: string[] = [];
      const spawnedMeanwhile: ProcessRef[] = [];
      for (const ref of survivors) {
        ref.actor.subscribe({
          complete: () => {
            exitOrder.push(ref.id);
            if (spawnedMeanwhile.length < 2) spawnedMeanwhile.push(runtime.spawn(counterMachine));
          },
        });
      }
      await runtime.stopAll();
      const expected = [...survivors].reverse().map((ref) => ref.id);
      expect(exitOrder.filter((id) => expected.includes(id))).toEqual(expected);
      expect(spawnedMeanwhile).toHaveLength(2);
      expect(spawnedMeanwhile.every((ref) => !ref.alive)).toBe(true);
      expect(runtime.processes()).toEqual([]);
    });
  });
});
