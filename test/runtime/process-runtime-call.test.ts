import { afterEach, describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { CallTimeoutError, NoProcError, ProcessExitedError, ValidationError } from '../../src/errors.js';
import { emit, setup } from 'xstate';
import { okReply, type ReplyEvent } from '../../machines/protocol.js';
import { counterMachine, echoMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

describe('ProcessRuntime', () => {
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

    // Found by an audit: a handle kept across a restart was answered "no process 'worker' is alive", while
    // whereis('worker') found the live worker that took the name; link and monitor's notify said the same.
    it("rejects a dead handle with NoProcError naming that process and its exit, not its name's new holder", async () => {
      const runtime = createRuntime();
      const old = runtime.spawn(counterMachine, { name: 'worker' });
      runtime.cast(old, { type: 'crash' });
      await old.exited;
      const current = runtime.spawn(counterMachine, { name: 'worker' });
      const message =
        `process 'worker' (${old.id}) exited (crash: boom): ` +
        `a handle stands for that process alone, not for a later one under its name`;
      const error = await runtime.call(old, { type: 'get' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoProcError);
      expect(error).toMatchObject({ code: 'noproc', target: 'worker', message, details: { processId: old.id } });
      expect(() => runtime.link(current, old)).toThrow(message);
      expect(() => runtime.monitor(current, { notify: old })).toThrow(message);
      await expect(runtime.call('worker', { type: 'get' })).resolves.toBe(0);
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

    // Found by mutation: a call given `timeout: Infinity` that timed out at once (as setTimeout does with it) passed.
    it('waits for ever with timeout Infinity: no CallTimeoutError, only the exit of its target ends it', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      let settled = false;
      const pending = runtime
        .call(ref, { type: 'hold' }, { timeout: Number.POSITIVE_INFINITY })
        .catch((e: unknown) => ((settled = true), e));
      await vi.advanceTimersByTimeAsync(24 * 60 * 60 * 1000);
      expect(settled).toBe(false);
      await runtime.stop(ref);
      expect(await pending).toBeInstanceOf(ProcessExitedError);
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

    // Found by mutation: a reply emitted by another process than the one called settled the call.
    it('settles a call only with the reply of the process it called, not one another process emits with its id', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const forger = runtime.spawn(
        setup({
          types: { events: {} as { type: 'forge'; answering: string }, emitted: {} as ReplyEvent },
        }).createMachine({
          on: { forge: { actions: emit(({ event }) => okReply(event.answering, 'forged')) } },
        }),
      );
      const pending = runtime.call(ref, { type: 'hold' });
      const [callId] = ref.getSnapshot().context.held;
      runtime.cast(forger, { type: 'forge', answering: callId! });
      runtime.cast(ref, { type: 'release' });
      await expect(pending).resolves.toBe('held #0');
    });

    // Found by mutation: a settled call's timer ran on, holding a script's event loop for the whole timeout.
    it('leaves no timer running once a call is settled, by a reply or by the exit of its target', async () => {
      vi.useFakeTimers();
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      await expect(runtime.call(ref, { type: 'get' }, { timeout: 60_000 })).resolves.toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      const pending = runtime.call(ref, { type: 'hold' }, { timeout: 60_000 });
      expect(vi.getTimerCount()).toBe(1);
      await runtime.stop(ref);
      await expect(pending).rejects.toBeInstanceOf(ProcessExitedError);
      expect(vi.getTimerCount()).toBe(0);
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
});
