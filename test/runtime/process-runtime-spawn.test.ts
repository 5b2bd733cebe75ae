import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { createMachine, fromPromise, type InspectionEvent } from 'xstate';
import { AlreadyExistsError } from '../../src/errors.js';
import { counterMachine, crashOnStartMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

describe('ProcessRuntime', () => {
  it('tells whether a handle or a name is a live process of its own, as Process.alive? does', async () => {
    const runtime = createRuntime();
    const named = runtime.spawn(counterMachine, { name: 'here' });
    const elsewhere = createRuntime().spawn(counterMachine, { name: 'there' });
    expect([runtime.isAlive(named), runtime.isAlive('here')]).toEqual([true, true]);
    expect([runtime.isAlive(elsewhere), runtime.isAlive('there'), runtime.isAlive(undefined as never)]).toEqual([
      false,
      false,
      false,
    ]);
    await runtime.stop(named);
    expect([runtime.isAlive(named), runtime.isAlive('here')]).toEqual([false, false]);
  });

  describe('spawn', () => {
    it('gives each process a unique Elixir-style id and a live ref', () => {
      const runtime = createRuntime();
      const a = runtime.spawn(counterMachine);
      const b = runtime.spawn(counterMachine);
      expect(a.id).toMatch(/^<0\.\d+>$/);
      expect(a.id).not.toBe(b.id);
      expect(a.alive).toBe(true);
      expect(a.exitReason).toBeUndefined();
      expect(a.getSnapshot().context.count).toBe(0);
      expect(a.actor.getSnapshot().status).toBe('active');
    });

    // Found by a review: a systemId taken from the name by default made this machine fail as it started.
    it('takes no systemId but the one given: a child may go by the process name in its system', () => {
      const runtime = createRuntime();
      const parent = createMachine({ invoke: { src: counterMachine, systemId: 'logger' } });
      const process = runtime.spawn(parent, { name: 'logger' });
      expect(process.alive).toBe(true);
      expect(process.actor.system.get('logger')).toBeDefined();
      expect(runtime.spawn(counterMachine, { name: 'named', systemId: 'sys' }).actor.system.get('sys')).toBeDefined();
    });

    it('passes input to the logic', () => {
      const runtime = createRuntime();
      expect(runtime.spawn(counterMachine, { input: { start: 41 } }).getSnapshot().context.count).toBe(41);
    });

    it('registers the name so whereis finds the process', () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'counter' });
      expect(runtime.whereis('counter')).toBe(ref);
      expect(ref.name).toBe('counter');
      expect(runtime.whereis('nobody')).toBeUndefined();
    });

    it('throws AlreadyExistsError when the name is taken, keeping the original', () => {
      const runtime = createRuntime();
      const original = runtime.spawn(counterMachine, { name: 'counter' });
      expect(() => runtime.spawn(counterMachine, { name: 'counter' })).toThrow(AlreadyExistsError);
      expect(runtime.whereis('counter')).toBe(original);
      expect(runtime.processes()).toEqual([original]);
    });

    it('frees the name the moment the process exits, whatever the way', async () => {
      const runtime = createRuntime();
      const stopped = runtime.spawn(counterMachine, { name: 'a' });
      const finished = runtime.spawn(counterMachine, { name: 'b' });
      const crashed = runtime.spawn(counterMachine, { name: 'c' });
      void runtime.stop(stopped);
      runtime.cast(finished, { type: 'finish' });
      runtime.cast(crashed, { type: 'crash' });
      expect([runtime.whereis('a'), runtime.whereis('b'), runtime.whereis('c')]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(runtime.spawn(counterMachine, { name: 'a' }).alive).toBe(true);
    });

    it('returns an exited ref, without throwing, when the logic crashes while starting', () => {
      const onError = vi.fn();
      const runtime = createRuntime({ onError });
      const ref = runtime.spawn(crashOnStartMachine, { name: 'fragile' });
      expect(ref.alive).toBe(false);
      expect(ref.exitReason).toEqual({ error: new Error('cannot start') });
      expect(runtime.whereis('fragile')).toBeUndefined();
      expect(onError).toHaveBeenCalledWith(new Error('cannot start'), ref);
    });

    it('runs any actor logic, not only machines', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(fromPromise(async () => 42));
      await expect(ref.exited).resolves.toBe('normal');
      expect(ref.getSnapshot().output).toBe(42);
    });

    it('passes inspect to every actor so tools see every transition', () => {
      const events: InspectionEvent[] = [];
      const runtime = createRuntime({ inspect: (event) => events.push(event) });
      const a = runtime.spawn(counterMachine);
      const b = runtime.spawn(counterMachine);
      runtime.cast(b, { type: 'increment' });
      const seen = new Set(events.filter((e) => e.type === '@xstate.snapshot').map((e) => e.actorRef));
      expect(seen).toEqual(new Set([a.actor, b.actor]));
      expect(events.some((e) => e.type === '@xstate.event' && e.event.type === 'increment')).toBe(true);
    });

    it('reports a throwing inspector through onError instead of crashing the process', () => {
      const onError = vi.fn();
      const runtime = createRuntime({
        onError,
        inspect: (event) => {
          if (event.type === '@xstate.event' && event.event.type === 'increment') throw new Error('bad tool');
        },
      });
      const ref = runtime.spawn(counterMachine);
      runtime.cast(ref, { type: 'increment' });
      expect(ref.getSnapshot().context.count).toBe(1);
      expect(onError).toHaveBeenCalledWith(new Error('bad tool'), ref, 'inspector');
    });

    // Found by a review: it was told at every inspection event, as if the process had crashed each time.
    it("reports a throwing inspector's first error for each process only, marked as the inspector's", () => {
      const onError = vi.fn();
      const runtime = createRuntime({
        onError,
        inspect: () => {
          throw new Error('bad tool');
        },
      });
      const [a, b] = [runtime.spawn(counterMachine), runtime.spawn(counterMachine)];
      for (let i = 0; i < 3; i++) for (const ref of [a, b]) runtime.cast(ref, { type: 'increment' });
      expect(a.getSnapshot().context.count).toBe(3);
      expect(onError.mock.calls).toEqual([
        [new Error('bad tool'), a, 'inspector'],
        [new Error('bad tool'), b, 'inspector'],
      ]);
    });

    it('reports through onError an inspector that throws on the first event, raised while the actor is made', () => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
      onTestFinished(() => logged.mockRestore());
      const onError = vi.fn();
      const runtime = createRuntime({
        onError,
        inspect: (event) => {
          if (event.type === '@xstate.actor') throw new Error('bad tool');
        },
      });
      const ref = runtime.spawn(counterMachine, { name: 'watched' });
      expect(onError).toHaveBeenCalledWith(new Error('bad tool'), ref, 'inspector');
      expect(logged).not.toHaveBeenCalled();
      expect(ref.alive).toBe(true);
    });
  });
});
