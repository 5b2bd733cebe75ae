import { describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError } from '../../src/errors.js';
import { ProcessRuntime, type DownNotice, type ProcessRef } from '../../src/runtime/index.js';
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
    expect(onError).toHaveBeenCalledWith(new Error('listener broke'), ref);
    expect(other).toHaveBeenCalledTimes(1);
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
