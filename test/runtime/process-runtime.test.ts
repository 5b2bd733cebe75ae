import { afterEach, describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { createMachine, fromPromise, type InspectionEvent } from 'xstate';
import {
  AlreadyExistsError,
  CallTimeoutError,
  NoProcError,
  ProcessExitedError,
  ValidationError,
} from '../../src/errors.js';
import { type ProcessRef } from '../../src/runtime/index.js';
import { counterMachine, crashOnStartMachine, echoMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

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
      logged.mockRestore();
      expect(ref.alive).toBe(true);
    });
  });

  describe('call', () => {
    it('resolves with the value the process replies', async () => {
      const runtime = createRuntime();
      runtime.spawn(counterMachine, { name: 'counter' });
      await expect(runtime.call('counter', { type: 'increment', by: 2 })).resolves.toBe(2);
      await expect(runtime.call('counter', { type: 'get' })).resolves.toBe(2);
    });

    it('works with a plain machine answering through reply', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(echoMachine);
      await expect(runtime.call(ref, { type: 'echo', text: 'hi' })).resolves.toBe('HI');
    });

    it('rejects with the typed error the process replies with', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const error = await runtime.call(ref, { type: 'invalid' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', variable: 'count', message: 'counter refuses' });
      expect(ref.alive).toBe(true);
    });

    it('rejects with NoProcError at once when the name is unknown', async () => {
      const runtime = createRuntime();
      await expect(runtime.call('ghost', { type: 'get' }, { timeout: 60_000 })).rejects.toThrow(NoProcError);
    });

    it('rejects with NoProcError at once when the process is dead', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      await runtime.stop(ref);
      const error = await runtime.call(ref, { type: 'get' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoProcError);
      expect(error).toMatchObject({ target: ref.id });
    });

    it('rejects with CallTimeoutError carrying target and timeout when nobody replies', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      runtime.spawn(counterMachine, { name: 'counter' });
      const pending = runtime.call('counter', { type: 'hold' }, { timeout: 250 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(250);
      const error = await pending;
      expect(error).toBeInstanceOf(CallTimeoutError);
      expect(error).toMatchObject({ target: 'counter', timeoutMs: 250 });
      expect((error as Error).message).toContain('counter');
    });

    it('uses a 5000 ms timeout by default', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      let settled = false;
      const pending = runtime.call(ref, { type: 'hold' }).catch((e: unknown) => ((settled = true), e));
      await vi.advanceTimersByTimeAsync(4999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await pending).toMatchObject({ timeoutMs: 5000 });
    });

    it('drops a late reply instead of delivering it to a later call', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const first = runtime.call(ref, { type: 'hold' }, { timeout: 10 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(10);
      expect(await first).toBeInstanceOf(CallTimeoutError);
      const second = runtime.call(ref, { type: 'hold' }, { timeout: 1000 });
      // `release` answers both held calls in order: the first reply (#0) is late and must vanish.
      runtime.cast(ref, { type: 'release' });
      await expect(second).resolves.toBe('held #1');
    });

    it('rejects with ProcessExitedError carrying the reason when the target is stopped during the call', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'counter' });
      const pending = runtime.call('counter', { type: 'hold' }).catch((e: unknown) => e);
      await runtime.stop(ref, 'maintenance');
      const error = await pending;
      expect(error).toBeInstanceOf(ProcessExitedError);
      expect(error).toMatchObject({ target: 'counter', reason: 'maintenance' });
    });

    // Found by a review: the copy a call sent took own fields only; the process crashed on an event with no type.
    it('delivers an event whose type is inherited (a class getter, a prototype) and gets the reply', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      class Increment {
        readonly by = 2;
        get type(): 'increment' {
          return 'increment';
        }
      }
      await expect(runtime.call(ref, new Increment())).resolves.toBe(2);
      await expect(runtime.call(ref, Object.create({ type: 'get' }) as { type: 'get' })).resolves.toBe(2);
      runtime.cast(ref, new Increment());
      await expect(runtime.call(ref, Object.create({ type: 'get' }) as { type: 'get' })).resolves.toBe(4);
      expect(ref.alive).toBe(true);
    });

    // Found by reviews of that fix: every other inherited field was still lost, by a call and a cast with a callId;
    // then an event inheriting from the caller's lost its own fields to serialization, and its private getters threw.
    it('delivers every field of an event of a class, as a plain object, by a call as by a cast', async () => {
      const seen: unknown[] = [];
      const runtime = createRuntime({
        inspect: (event) => {
          if (event.type === '@xstate.event' && event.event.type === 'increment')
            seen.push(JSON.parse(JSON.stringify(event.event)));
        },
      });
      const ref = runtime.spawn(counterMachine);
      class Increment {
        readonly #by: number;
        readonly note = 'own';
        constructor(by: number) {
          this.#by = by;
        }
        get type(): 'increment' {
          return 'increment';
        }
        get by(): number {
          return this.#by;
        }
      }
      class Spoofing extends Increment {
        readonly callId = `${ref.id}#9`;
      }
      await expect(runtime.call(ref, new Increment(7))).resolves.toBe(7);
      runtime.cast(ref, new Increment(7));
      runtime.cast(ref, new Spoofing(7));
      expect(ref.getSnapshot().context.count).toBe(21);
      expect(ref.alive).toBe(true);
      // What a call and a cast that carried a callId deliver serializes whole; a plain cast hands over the instance.
      expect(seen[0]).toEqual({ note: 'own', type: 'increment', by: 7, callId: expect.any(String) });
      expect(seen[2]).toEqual({ note: 'own', type: 'increment', by: 7 });
    });

    it('rejects with ProcessExitedError when the target finishes without replying', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      await expect(runtime.call(ref, { type: 'finish' })).rejects.toMatchObject({
        code: 'process_exited',
        reason: 'normal',
      });
      expect(ref.exitReason).toBe('normal');
    });
  });

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
