import { describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError } from '../../src/errors.js';
import { ProcessRuntime, type DownNotice, type ProcessRef } from '../../src/runtime/index.js';
import { Runtime } from '../../src/index.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { waitFor } from '../support/wait-for.js';
import { counterMachine } from './fixtures.js';

const newRuntime = useProcessRuntimes();
const createRuntime = (onError: (error: unknown) => void = () => {}): ProcessRuntime => newRuntime({ onError });

/** Lets queued microtasks (where DOWN notices are delivered) run. */
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('monitors', () => {
  it('delivers one DOWN notice with id, name and reason when the target is stopped', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { name: 'counter' });
    const notices: DownNotice[] = [];
    runtime.monitor(ref, (notice) => notices.push(notice));
    await runtime.stop(ref, 'bye');
    await flush();
    expect(notices).toEqual([
      { type: 'DOWN', monitor: expect.any(String), id: ref.id, name: 'counter', reason: 'bye' },
    ]);
  });

  it('reports normal when the target finishes and { error } when it crashes', async () => {
    const runtime = createRuntime();
    const finishing = runtime.spawn(counterMachine);
    const crashing = runtime.spawn(counterMachine);
    const reasons = new Map<string | undefined, unknown>();
    runtime.monitor(finishing, (notice) => reasons.set(notice.id, notice.reason));
    runtime.monitor('missing-is-fine-here', () => {});
    runtime.monitor(crashing, (notice) => reasons.set(notice.id, notice.reason));
    runtime.cast(finishing, { type: 'finish' });
    runtime.cast(crashing, { type: 'crash' });
    await flush();
    expect(reasons.get(finishing.id)).toBe('normal');
    expect(reasons.get(crashing.id)).toEqual({ error: new Error('boom') });
  });

  it('tells every monitor of the same target', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine);
    const first = vi.fn();
    const second = vi.fn();
    runtime.monitor(ref, first);
    runtime.monitor(ref, second);
    await runtime.stop(ref);
    await flush();
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(first.mock.calls[0]?.[0].monitor).not.toBe(second.mock.calls[0]?.[0].monitor);
  });

  // Found by a review: monitor() returned only a function, so a process holding several monitors could not tell
  // which one a DOWN notice was of, as Elixir's :DOWN message carries the ref Process.monitor returned.
  it('gives each monitor the id its DOWN notice carries, noproc ones included', async () => {
    const runtime = createRuntime();
    const watcher = runtime.spawn(counterMachine);
    const [a, b] = [runtime.spawn(counterMachine), runtime.spawn(counterMachine)];
    const handles = [a, b, 'nobody'].map((target) => runtime.monitor(target, { notify: watcher }));
    expect(new Set(handles.map((handle) => handle.monitor)).size).toBe(3);
    await runtime.stop(b);
    await runtime.stop(a);
    await waitFor(() => watcher.getSnapshot().context.downs.length === 3);
    const byMonitor = new Map(watcher.getSnapshot().context.downs.map((down) => [down.monitor, down]));
    expect(byMonitor.get(handles[0]!.monitor)).toMatchObject({ id: a.id, reason: 'shutdown' });
    expect(byMonitor.get(handles[1]!.monitor)).toMatchObject({ id: b.id, reason: 'shutdown' });
    expect(byMonitor.get(handles[2]!.monitor)).toMatchObject({ name: 'nobody', reason: 'noproc' });
  });

  it('delivers noproc asynchronously when the target is already dead', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { name: 'gone' });
    await runtime.stop(ref);
    const notices: DownNotice[] = [];
    runtime.monitor(ref, (notice) => notices.push(notice));
    expect(notices).toEqual([]);
    await flush();
    expect(notices).toEqual([
      { type: 'DOWN', monitor: expect.any(String), id: ref.id, name: 'gone', reason: 'noproc' },
    ]);
  });

  it('delivers noproc when the name is unknown', async () => {
    const runtime = createRuntime();
    const listener = vi.fn();
    runtime.monitor('nobody', listener);
    await flush();
    expect(listener).toHaveBeenCalledWith({
      type: 'DOWN',
      monitor: expect.any(String),
      id: undefined,
      name: 'nobody',
      reason: 'noproc',
    });
  });

  it('delivers nothing after demonitor, even when the exit already happened', async () => {
    const runtime = createRuntime();
    const early = runtime.spawn(counterMachine);
    const late = runtime.spawn(counterMachine);
    const listener = vi.fn();
    runtime.monitor(early, listener)();
    const demonitorLate = runtime.monitor(late, listener);
    await runtime.stop(early);
    void runtime.stop(late);
    demonitorLate();
    runtime.monitor('nobody', listener)();
    await flush();
    expect(listener).not.toHaveBeenCalled();
  });

  it('sends the notice as a DOWN event when a process is the monitor', async () => {
    const runtime = createRuntime();
    const watcher = runtime.spawn(counterMachine);
    const target = runtime.spawn(counterMachine, { name: 'target' });
    runtime.monitor(target, { notify: watcher });
    runtime.cast(target, { type: 'crash' });
    const downs = await waitFor(() => watcher.getSnapshot().context.downs[0]);
    expect(downs).toMatchObject({ type: 'DOWN', id: target.id, name: 'target', reason: { error: new Error('boom') } });
  });

  it('drops the monitors a process holds when that process exits', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const runtime = createRuntime();
    const watcher = runtime.spawn(counterMachine);
    const target = runtime.spawn(counterMachine);
    runtime.monitor(target, { notify: watcher });
    await runtime.stop(watcher);
    await runtime.stop(target);
    await flush();
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('lets go of an exited watcher while its target lives on: the target keeps no monitor of it', async () => {
    const runtime = createRuntime();
    const target = runtime.spawn(counterMachine, { name: 'long-lived' });
    let watcher: ProcessRef | undefined = runtime.spawn(counterMachine);
    runtime.monitor(target, { notify: watcher });
    const held = new WeakRef(watcher.actor);
    await runtime.stop(watcher);
    watcher = undefined;
    await flush();
    collectGarbage();
    expect(held.deref()).toBeUndefined();
    expect(runtime.whereis('long-lived')).toBeDefined();
  });

  // Found by mutation: a watcher that lived on kept every target it had been told of the exit of.
  it('lets go of an exited target while its watcher lives on: the watcher keeps no monitor of it', async () => {
    const runtime = createRuntime();
    const watcher = runtime.spawn(counterMachine, { name: 'long-lived' });
    let target: ProcessRef | undefined = runtime.spawn(counterMachine);
    runtime.monitor(target, { notify: watcher });
    const held = new WeakRef(target.actor);
    await runtime.stop(target);
    target = undefined;
    await flush();
    expect(watcher.getSnapshot().context.downs).toHaveLength(1);
    collectGarbage();
    expect(held.deref()).toBeUndefined();
  });

  it('refuses a monitor whose process to notify is not alive, with noproc naming it', async () => {
    const runtime = createRuntime();
    const target = runtime.spawn(counterMachine);
    const gone = runtime.spawn(counterMachine);
    await runtime.stop(gone);
    expect(() => runtime.monitor(target, { notify: gone })).toThrow(NoProcError);
    expect(() => runtime.monitor(target, { notify: gone })).toThrow(`no process '${gone.id}' is alive`);
  });

  it('reports a throwing listener through onError and keeps delivering to the others', async () => {
    const onError = vi.fn();
    const runtime = createRuntime(onError);
    const ref = runtime.spawn(counterMachine);
    const other = vi.fn();
    runtime.monitor(ref, () => {
      throw new Error('listener broke');
    });
    runtime.monitor(ref, other);
    await runtime.stop(ref);
    await flush();
    expect(onError).toHaveBeenCalledWith(new Error('listener broke'), ref, 'monitor');
    expect(other).toHaveBeenCalledTimes(1);
  });

  // Found by a review: these were only logged, and a listener's error was told as a crash of the process it watched.
  it('reports a throwing or rejecting listener on a name nobody holds to onError, as the monitor', async () => {
    const onError = vi.fn();
    const runtime = newRuntime({ onError });
    runtime.monitor('nobody', () => {
      throw new Error('noproc listener threw');
    });
    runtime.monitor('nobody', async () => {
      throw new Error('noproc listener rejected');
    });
    await flush();
    expect(onError.mock.calls).toEqual([
      [new Error('noproc listener threw'), 'nobody', 'monitor'],
      [new Error('noproc listener rejected'), 'nobody', 'monitor'],
    ]);
  });

  it("logs a listener's error by default as the monitor's, not as a crash of the process it watched", async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const runtime = new ProcessRuntime();
      const ref = runtime.spawn(counterMachine, { name: 'watched' });
      runtime.monitor(ref, () => {
        throw new Error('listener broke');
      });
      await runtime.stop(ref);
      await flush();
      expect(logged).toHaveBeenCalledWith(`[tether] monitor of process ${ref} threw:`, new Error('listener broke'));
      expect(logged.mock.calls.flat().join(' ')).not.toContain('crashed');
    } finally {
      logged.mockRestore();
    }
  });

  it("tells a Runtime's onError where a monitor listener failed, apart from a crash of the process", async () => {
    const told: string[] = [];
    const node = await Runtime.start({ onError: (error, where) => told.push(`${where}: ${(error as Error).message}`) });
    try {
      node.monitor('nobody', () => {
        throw new Error('noproc listener threw');
      });
      node.monitor('nobody', async () => {
        throw new Error('noproc listener rejected');
      });
      const ref = node.spawn(counterMachine, { name: 'b' });
      node.monitor(ref, () => {
        throw new Error('listener broke');
      });
      node.cast(ref, { type: 'crash' });
      await ref.exited;
      await flush();
      expect(told.sort()).toEqual([
        'monitor of process b: listener broke',
        'monitor of process nobody: noproc listener rejected',
        'monitor of process nobody: noproc listener threw',
        'process b: boom',
      ]);
    } finally {
      await node.stop();
    }
  });

  it('refuses a { notify } bag with anything else in it', () => {
    const runtime = createRuntime();
    const [watched, told] = [runtime.spawn(counterMachine), runtime.spawn(counterMachine)];
    expect(() => runtime.monitor(watched, { notify: told, flush: true } as never)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        message: 'monitor got unknown option flush; accepted: notify',
      }),
    );
  });
});
