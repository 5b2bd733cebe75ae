import { afterEach, describe, expect, it, vi } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { MaxRestartIntensityError } from '../../src/errors.js';
import { Supervisor, type ChildSpec } from '../../src/runtime/index.js';
import { waitFor } from '../support/wait-for.js';
import { counterMachine } from './fixtures.js';
import { counter, restarted, startAbc } from '../support/supervisor-children.js';

const createRuntime = useProcessRuntimes();
afterEach(() => {
  vi.useRealTimers();
});

describe('Supervisor', () => {
  it('exits, stopping the remaining children, when restarts exceed the intensity', async () => {
    const runtime = createRuntime();
    const sup = startAbc(runtime, { name: 'sup', maxRestarts: 2, maxSeconds: 60 });
    const down = vi.fn();
    runtime.monitor(sup.ref, down);
    for (let crash = 0; crash < 3; crash++) {
      const b = await waitFor(() => runtime.whereis('b'));
      runtime.cast(b, { type: 'crash' });
    }
    await expect(sup.exited).resolves.toBe('shutdown');
    expect(sup.alive).toBe(false);
    expect(runtime.processes()).toEqual([]);
    await waitFor(() => down.mock.calls.length === 1);
    expect(down).toHaveBeenCalledWith(expect.objectContaining({ name: 'sup', reason: 'shutdown' }));
  });

  // Found by a review: it exited with { shutdown: 'reached_max_restart_intensity' }, which a check of 'shutdown' missed.
  it("exits with 'shutdown' past its intensity, as OTP's, and tells onError why: the child and its last exit", async () => {
    const told: { error: unknown; process: unknown; source: unknown }[] = [];
    const runtime = createRuntime({ onError: (error, process, source) => void told.push({ error, process, source }) });
    const sup = Supervisor.start(runtime, { name: 'sup', maxRestarts: 0, children: [counter('a')] });
    const owner = runtime.spawn(counterMachine, { trapExit: true });
    runtime.link(owner, sup.ref);

    runtime.cast('a', { type: 'crash' });

    await expect(sup.exited).resolves.toBe('shutdown');
    expect(owner.getSnapshot().context.exits.map((exit) => exit.reason)).toEqual(['shutdown']);
    const reports = told.filter(({ source }) => source === 'restart');
    expect(reports).toEqual([{ error: expect.any(MaxRestartIntensityError), process: sup.ref, source: 'restart' }]);
    expect(reports[0]!.error).toMatchObject({
      code: 'reached_max_restart_intensity',
      supervisor: 'sup',
      childId: 'a',
      childExit: 'crash: boom',
      maxRestarts: 0,
      maxSeconds: 5,
      message:
        "supervisor 'sup' reached its maximum restart intensity (0 restarts in 5 s) at child 'a' (crash: boom), and shut down",
      cause: new Error('boom'),
    });
  });

  it('forgets restarts older than maxSeconds', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const runtime = createRuntime();
    const sup = startAbc(runtime, { maxRestarts: 1, maxSeconds: 5 });
    runtime.cast('a', { type: 'crash' });
    await restarted(runtime, 'a', undefined);
    vi.advanceTimersByTime(6000);
    const a = runtime.whereis('a');
    runtime.cast('a', { type: 'crash' });
    await restarted(runtime, 'a', a);
    expect(sup.alive).toBe(true);
  });

  it('counts elapsed time, not the wall clock: a clock stepped back keeps no old restart in the window', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const runtime = createRuntime();
    const sup = startAbc(runtime, { maxRestarts: 1, maxSeconds: 5 });
    runtime.cast('a', { type: 'crash' });
    await restarted(runtime, 'a', undefined);
    // NTP steps the system clock back an hour (a VM resumed); then ten minutes pass.
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(600_000);
    const a = runtime.whereis('a');
    runtime.cast('a', { type: 'crash' });
    await restarted(runtime, 'a', a);
    expect(sup.alive).toBe(true);
  });

  it('counts failed restarts against the intensity', async () => {
    const runtime = createRuntime();
    let starts = 0;
    const flaky: ChildSpec = {
      id: 'flaky',
      start: () => {
        if (++starts > 1) throw new Error('no more');
        return { logic: counterMachine, name: 'flaky' };
      },
    };
    const sup = Supervisor.start(runtime, { children: [flaky], maxRestarts: 3 });
    runtime.cast('flaky', { type: 'crash' });
    await expect(sup.exited).resolves.toBe('shutdown');
    expect(starts).toBe(4);
  });

  it('lets the event loop run between the restarts of a child that keeps failing to start', async () => {
    const runtime = createRuntime();
    // A ticker on the macrotask queue: the tick each start attempt sees tells whether the loop ran in between.
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    const failing: ChildSpec = {
      id: 'failing',
      start: () => {
        seen.push(ticks);
        if (seen.length > 1) throw new Error('cannot start');
        return { logic: counterMachine, name: 'failing' };
      },
    };
    const sup = Supervisor.start(runtime, { children: [failing], maxRestarts: 20, maxSeconds: 60 });
    runtime.cast('failing', { type: 'crash' });
    await expect(sup.exited).resolves.toBe('shutdown');
    ticking = false;
    const restarts = seen.slice(1);
    expect(restarts).toHaveLength(20);
    expect(new Set(restarts).size).toBe(restarts.length);
  });
});
