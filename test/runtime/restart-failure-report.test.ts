/**
 * A supervisor's failed restart of a child (its `start()` threw, or spawn refused what it returned) is told to
 * `onError` at every attempt, as OTP reports each; one attempt too many, after it, as the supervisor giving up.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ChildStartError, MaxRestartIntensityError } from '../../src/errors.js';
import { Runtime } from '../../src/index.js';
import {
  DynamicSupervisor,
  Supervisor,
  type ChildSpec,
  type ProcessHost,
  type ProcessRef,
} from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** Child `repo`, whose start works once and then throws `unreachable` ('database unreachable'). */
function failingRepo(): { spec: ChildSpec; unreachable: Error; starts: () => number } {
  const unreachable = new Error('database unreachable');
  let starts = 0;
  const spec: ChildSpec = {
    id: 'repo',
    start: () => {
      if (++starts > 1) throw unreachable;
      return { logic: counterMachine, name: 'repo' };
    },
  };
  return { spec, unreachable, starts: () => starts };
}

describe("a child's failed restart", () => {
  it('is told to onError as a ChildStartError of the supervisor, caused by what start() threw, at each attempt', async () => {
    const told: { error: unknown; process: ProcessRef | string; source: string | undefined }[] = [];
    const runtime = createRuntime({ onError: (error, process, source) => void told.push({ error, process, source }) });
    const repo = failingRepo();
    const sup = Supervisor.start(runtime, { name: 'repo-sup', maxRestarts: 2, children: [repo.spec] });
    runtime.cast('repo', { type: 'crash' });
    await expect(sup.exited).resolves.toBe('shutdown');
    expect(repo.starts()).toBe(3);
    const restarts = told.filter((report) => report.source === 'restart');
    expect(restarts.map(({ error }) => error)).toEqual([
      expect.any(ChildStartError),
      expect.any(ChildStartError),
      expect.any(MaxRestartIntensityError),
    ]);
    // The supervisor giving up names the child, and the last failed start is its cause.
    expect(restarts[2]).toMatchObject({
      process: sup.ref,
      error: { childId: 'repo', childExit: 'failed to start', cause: restarts[1]!.error },
    });
    for (const { error, process } of restarts.slice(0, 2)) {
      expect(process).toBe(sup.ref);
      expect(error).toBeInstanceOf(ChildStartError);
      expect(error).toMatchObject({
        code: 'child_start_failed',
        message: "supervisor 'repo-sup' could not start child 'repo': database unreachable",
        details: { supervisor: 'repo-sup', childId: 'repo' },
        cause: repo.unreachable,
      });
    }
  });

  it('is told when spawn refuses the restart because another process took the name meanwhile', async () => {
    const told: unknown[] = [];
    const runtime = createRuntime({
      onError: (error, _process, source) => void (source === 'restart' && told.push(error)),
    });
    const pool = DynamicSupervisor.start(runtime, { name: 'pool', maxRestarts: 1 });
    pool.startChild({ start: () => ({ logic: counterMachine, name: 'worker' }) });
    runtime.cast('worker', { type: 'crash' });
    // Between the crash and the restart (a macrotask later) another process takes the name.
    const squatter = runtime.spawn(counterMachine, { name: 'worker' });
    await expect(pool.exited).resolves.toBe('shutdown');
    expect(squatter.alive).toBe(true);
    expect(told).toHaveLength(2);
    expect(told[0]).toMatchObject({
      code: 'child_start_failed',
      details: { supervisor: 'pool', childId: 'dynamic' },
      cause: { code: 'already_exists' },
    });
    expect(told[1]).toMatchObject({ code: 'reached_max_restart_intensity', cause: told[0] });
  });

  it("is told to a Runtime's onError as the restart of the supervisor's process", async () => {
    const told: string[] = [];
    const runtime = await Runtime.start({
      onError: (error, where) => told.push(`${where}: ${(error as Error).message}`),
    });
    try {
      const sup = Supervisor.start(runtime, { name: 'repo-sup', maxRestarts: 1, children: [failingRepo().spec] });
      runtime.cast('repo', { type: 'crash' });
      await expect(sup.exited).resolves.toBe('shutdown');
      expect(told).toContain(
        "restart of process repo-sup: supervisor 'repo-sup' could not start child 'repo': database unreachable",
      );
    } finally {
      await runtime.stop();
    }
  });

  it("is logged when the host has no reportFault (a ProcessHost of the user's own)", async () => {
    const runtime = createRuntime();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => logged.mockRestore());
    const host: ProcessHost = {
      spawn: (logic, options) => runtime.spawn(logic, options),
      stopProcess: (target, reason) => runtime.stopProcess(target, reason),
      monitor: (target, watcher) => runtime.monitor(target, watcher),
      isAlive: (target) => runtime.isAlive(target),
      get stopping() {
        return runtime.stopping;
      },
    };
    const repo = failingRepo();
    const sup = Supervisor.start(host, { name: 'repo-sup', maxRestarts: 1, children: [repo.spec] });
    runtime.cast('repo', { type: 'crash' });
    await expect(sup.exited).resolves.toBe('shutdown');
    expect(logged).toHaveBeenCalledWith(
      '[tether] restart of process repo-sup:',
      expect.objectContaining({ code: 'child_start_failed', cause: repo.unreachable }),
    );
  });
});
