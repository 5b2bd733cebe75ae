import { describe, expect, it } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError, ValidationError, errorToJSON } from '../../src/errors.js';
import type { DownNotice, ExitReason, MonitorTarget, ProcessRef } from '../../src/runtime/index.js';
import { waitFor } from '../support/wait-for.js';
import { MAX_TIMEOUT_MS } from '../../src/index.js';
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

  describe('a target that is no process', () => {
    /** What `whereis` returns for a name nobody holds, and values passed by mistake. */
    const notTargets: unknown[] = [undefined, null, 42];

    it('makes call reject (never throw) with NoProcError naming the target as it prints', async () => {
      const runtime = createRuntime();
      for (const target of notTargets) {
        let outcome: Promise<unknown> | undefined;
        expect(() => (outcome = runtime.call(target as ProcessRef, { type: 'get' }))).not.toThrow();
        const error = await outcome?.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NoProcError);
        expect(error).toMatchObject({ target: String(target) });
      }
    });

    it('is answered by cast, stop, monitor and link as a process that is not alive', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      for (const target of notTargets) {
        const other = target as ProcessRef;
        expect(() => runtime.cast(other, { type: 'increment' })).not.toThrow();
        await expect(runtime.stop(other)).resolves.toBeUndefined();
        const notices: DownNotice[] = [];
        runtime.monitor(other, (notice) => notices.push(notice));
        await waitFor(() => notices.length === 1);
        expect(notices[0]).toMatchObject({ reason: 'noproc', id: undefined, name: undefined });
        expect(() => runtime.link(other, ref)).toThrow(NoProcError);
        expect(() => runtime.link(ref, other)).toThrow(`no process '${String(target)}' is alive`);
      }
      expect(ref.alive).toBe(true);
    });

    it('is refused by stop when left out, which stops nothing: stopAll() stops every process', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const stop = runtime.stop as () => Promise<void>;
      await expect(stop.call(runtime)).rejects.toMatchObject({
        code: 'validation_failed',
        message: 'stop needs the process to stop (its ref, pid or name); stopAll() stops every process',
        details: { field: 'target' },
      });
      expect(ref.alive).toBe(true);
      await runtime.stopAll();
      expect(ref.alive).toBe(false);
    });

    // Found by an audit: stop() was refused, its alias stopProcess() stopped nothing and said nothing.
    it('is refused by stopProcess when left out, as by stop', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const stopProcess = runtime.stopProcess as () => Promise<void>;
      await expect(stopProcess.call(runtime)).rejects.toMatchObject({
        code: 'validation_failed',
        message:
          'stopProcess needs the process to stop (its ref, pid or name); ' +
          "a ProcessRuntime's stopAll() or a Runtime's stop() stops every process",
        details: { field: 'target' },
      });
      expect(ref.alive).toBe(true);
    });

    it('is refused with ValidationError as the watcher of a monitor', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      for (const watcher of [undefined, null, 42, {}, { notify: undefined }, { notify: 42 }]) {
        expect(() => runtime.monitor(ref, watcher as MonitorTarget)).toThrow(ValidationError);
        expect(() => runtime.monitor('nobody', watcher as MonitorTarget)).toThrow(/monitor needs a function/);
      }
      await runtime.stop(ref);
      expect(ref.exitReason).toBe('shutdown');
    });
  });

  describe('an exit reason', () => {
    it('that is none is refused by stop with ValidationError, and the process, its calls and links are untouched', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const peer = runtime.spawn(counterMachine);
      runtime.link(ref, peer);
      const pending = runtime.call(ref, { type: 'never-answered' }, { timeout: 50 });
      for (const reason of [5, true, null, {}, { error: 1, extra: 2 }, { linked: 'x' }, { linked: 1, reason: 'r' }]) {
        await expect(runtime.stop(ref, reason as unknown as ExitReason)).rejects.toThrow(ValidationError);
      }
      await expect(runtime.stop(ref, 5 as unknown as ExitReason)).rejects.toThrow(
        /^an exit reason is a string, \{ error \}, \{ shutdown \} or \{ linked, reason \}; got 5$/,
      );
      expect([ref.alive, peer.alive]).toEqual([true, true]);
      await expect(pending).rejects.toMatchObject({ code: 'call_timeout' });
      // Each kind of reason is taken.
      await runtime.stop(ref, { linked: 'p', reason: { shutdown: 'done' } });
      expect(ref.exitReason).toEqual({ linked: 'p', reason: { shutdown: 'done' } });
    });

    // Found by mutation: without the bound on its depth, a reason that nests itself overflowed the stack.
    it('that nests itself is refused by stop with ValidationError, and the process lives on', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      const cyclic: { linked: string; reason: unknown } = { linked: 'p', reason: undefined };
      cyclic.reason = cyclic;
      await expect(runtime.stop(ref, cyclic as ExitReason)).rejects.toThrow(ValidationError);
      expect(ref.alive).toBe(true);
    });
  });

  describe('spawn and call options', () => {
    it('refuses a spawn name that is not a non-empty string with ValidationError, spawning nothing', () => {
      const runtime = createRuntime();
      for (const name of [42, '', null, {}]) {
        expect(() => runtime.spawn(counterMachine, { name: name as string })).toThrow(ValidationError);
        expect(() => runtime.spawn(counterMachine, { name: name as string })).toThrow(/spawn option 'name'/);
      }
      expect(runtime.processes()).toEqual([]);
    });

    // Found by a review: any systemId was taken, and the process started.
    it('refuses a spawn systemId that is not a non-empty string, naming it, spawning nothing', () => {
      const runtime = createRuntime();
      for (const systemId of [5, '', {}, null]) {
        const refused = (() => {
          try {
            return runtime.spawn(counterMachine, { name: 'refused', systemId: systemId as string });
          } catch (error) {
            return error;
          }
        })();
        expect(refused).toBeInstanceOf(ValidationError);
        expect(refused).toMatchObject({ code: 'validation_failed', details: { option: 'systemId' } });
        expect((refused as Error).message).toMatch(/^spawn option 'systemId' must be a non-empty string, got /);
      }
      expect(runtime.processes()).toEqual([]);
    });

    it('refuses what is not actor logic with ValidationError naming it, spawning nothing', () => {
      const runtime = createRuntime();
      for (const logic of [42, {}, null, undefined, () => 1, { transition: 1 }]) {
        expect(() => runtime.spawn(logic as never)).toThrow(ValidationError);
        expect(() => runtime.spawn(logic as never, { name: 'server' })).toThrow(/spawn needs XState actor logic/);
      }
      expect(runtime.processes()).toEqual([]);
      expect(runtime.whereis('server')).toBeUndefined();
    });

    it('refuses a call timeout that is not a number of at least 1 ms with ValidationError, sending nothing', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine);
      // 0.5 would round to a timer of 1 ms while the message promised at least 1; NaN and 0 could never wait.
      // Each with the value its details carry, as JSON carries them: NaN as text, not as null.
      const refused = [
        ['30', "'30'"],
        [null, 'null'],
        [true, 'true'],
        [0.5, 0.5],
        [0, 0],
        [-1, -1],
        [Number.NaN, 'NaN'],
      ];
      for (const [timeout, detail] of refused) {
        const error = await runtime
          .call(ref, { type: 'increment' }, { timeout: timeout as unknown as number })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({ message: expect.stringContaining('call timeout must be between 1 and') });
        expect(JSON.parse(JSON.stringify(errorToJSON(error))).details).toEqual({ timeout: detail });
      }
      expect(ref.getSnapshot().context.count).toBe(0);
      // No options at all, even null ones, means the default timeout rather than a synchronous TypeError.
      await expect(runtime.call(ref, { type: 'get' }, null as never)).resolves.toBe(0);
    });

    it('takes up to MAX_TIMEOUT_MS, the bound its docs link to, exported for a caller to clamp to', async () => {
      const runtime = createRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'bounded' });
      expect(MAX_TIMEOUT_MS).toBe(2 ** 31 - 1);
      await expect(runtime.call(ref, { type: 'get' }, { timeout: MAX_TIMEOUT_MS })).resolves.toBe(0);
      const error = await runtime.call(ref, { type: 'get' }, { timeout: MAX_TIMEOUT_MS + 1 }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining(`${MAX_TIMEOUT_MS} ms`),
      });
    });
  });
});
