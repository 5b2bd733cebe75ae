import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeStoppedError } from '../../src/errors.js';
import { errorFromJSON, errorToJSON } from '../../src/error-json.js';
import { Runtime } from '../../src/node/runtime.js';
import { DynamicSupervisor, Supervisor, type ChildSpec } from '../../src/runtime/index.js';
import { waitFor } from '../support/wait-for.js';
import { counterMachine } from './fixtures.js';

function counter(id: string): ChildSpec {
  return { id, start: () => ({ logic: counterMachine, name: id }) };
}

const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop();
});

/** An embedded runtime with a session holding `x = 1`. */
async function runtimeWithSession(): Promise<Runtime> {
  const runtime = await Runtime.start({ onError: () => {} });
  runtimes.push(runtime);
  await (await runtime.session('keep')).defineVariable('x', 'integer', 1);
  return runtime;
}

describe('supervisors on a Runtime (a node), not only on a bare ProcessRuntime', () => {
  it('restarts the siblings of a one_for_all child and stops its children alone, leaving the runtime serving', async () => {
    const runtime = await runtimeWithSession();
    const sup = Supervisor.start(runtime, { strategy: 'one_for_all', children: [counter('a'), counter('b')] });
    const before = runtime.whereis('b');
    runtime.cast('a', { type: 'crash' });
    await waitFor(() => (runtime.whereis('b') !== before ? runtime.whereis('b') : undefined), {
      message: 'b restarted',
    });
    await sup.stop();
    expect(sup.alive).toBe(false);
    expect(runtime.whereis('a')).toBeUndefined();
    expect(runtime.stopping).toBe(false);
    // The session process and a new session are untouched by the supervisor's stops.
    expect(await (await runtime.session('keep')).getVariable('x')).toBe(1);
    await expect(runtime.session('other')).resolves.toBeDefined();
  });

  it('terminates a dynamic child and itself without stopping the runtime', async () => {
    const runtime = await runtimeWithSession();
    const sup = DynamicSupervisor.start(runtime);
    const child = sup.startChild({ start: () => ({ logic: counterMachine, name: 'dyn-child' }) });
    await sup.terminateChild(child);
    expect(child.alive).toBe(false);
    await sup.stop();
    expect(runtime.stopping).toBe(false);
    expect(await (await runtime.session('keep')).getVariable('x')).toBe(1);
  });

  it('restarts nothing once the runtime stops', async () => {
    const runtime = await runtimeWithSession();
    const sup = Supervisor.start(runtime, { children: [counter('a')] });
    await runtime.stop();
    expect(runtime.stopping).toBe(true);
    expect(sup.alive).toBe(false);
    expect(runtime.whereis('a')).toBeUndefined();
  });

  it('spawns a process that traps exits, and lets a supervisor outlive a crashed child linked to it', async () => {
    const runtime = await runtimeWithSession();
    const trapper = runtime.spawn(counterMachine, { trapExit: true });
    const sup = Supervisor.start(runtime, { children: [counter('a')] });
    const a = runtime.whereis('a')!;
    runtime.link(a, trapper);
    runtime.link(a, sup.ref);
    runtime.cast(a, { type: 'crash' });
    expect(trapper.getSnapshot().context.exits.map((notice) => notice.id)).toEqual([a.id]);
    await waitFor(() => runtime.whereis('a') !== undefined && runtime.whereis('a') !== a);
    expect([trapper.alive, sup.alive]).toEqual([true, true]);
  });

  it('ignores an EXIT event cast to it, and goes down with a linked owner that crashes', async () => {
    const runtime = await runtimeWithSession();
    const sup = Supervisor.start(runtime, { children: [counter('a')] });
    const forged = { type: 'EXIT', id: '<0.999>', name: 'someone', reason: 'boom' };
    runtime.cast(sup.ref, forged);
    expect([sup.alive, runtime.whereis('a')?.alive]).toEqual([true, true]);
    const owner = runtime.spawn(counterMachine);
    runtime.link(owner, sup.ref);
    runtime.cast(owner, { type: 'crash' });
    await sup.exited;
    expect(sup.exitReason).toEqual({ linked: owner.id, reason: { error: new Error('boom') } });
  });
});

// A stopped runtime would never stop what it started then, and its supervisors would never restart a child.
describe('a Runtime once its stop() began', () => {
  it('starts no process, bare or supervised: RuntimeStoppedError, and nothing is registered', async () => {
    const runtime = await runtimeWithSession();
    const stopping = runtime.stop();
    expect(() => runtime.spawn(counterMachine, { name: 'late' })).toThrow(RuntimeStoppedError);
    expect(() => runtime.spawn(counterMachine)).toThrow(
      expect.objectContaining({
        code: 'runtime_stopped',
        message: expect.stringMatching(/^the runtime was stopped: spawn refused/),
      }),
    );
    expect(() => Supervisor.start(runtime, { strategy: 'one_for_one', children: [counter('a')] })).toThrow(
      expect.objectContaining({ code: 'runtime_stopped' }),
    );
    expect(() => DynamicSupervisor.start(runtime, { name: 'pool' })).toThrow(
      expect.objectContaining({ code: 'runtime_stopped', operation: "spawn of 'pool'" }),
    );
    await stopping;
    for (const name of ['late', 'a', 'pool']) expect(runtime.whereis(name)).toBeUndefined();
    const rebuilt = errorFromJSON(errorToJSON(new RuntimeStoppedError("spawn of 'late'")));
    expect(rebuilt).toBeInstanceOf(RuntimeStoppedError);
    expect(rebuilt).toMatchObject({ operation: "spawn of 'late'" });
  });
});

describe("a Runtime's stopProcess", () => {
  // Found by an audit: ProcessRuntime.stop() with no target is refused; the Runtime's stopProcess() stopped nothing,
  // silently, where `stop()` stops the runtime.
  it('is refused when the process to stop is left out, naming stop(), and stops nothing', async () => {
    const runtime = await runtimeWithSession();
    const ref = runtime.spawn(counterMachine, { name: 'kept' });
    const stopProcess = runtime.stopProcess as () => Promise<void>;
    await expect(stopProcess.call(runtime)).rejects.toMatchObject({
      code: 'validation_failed',
      message:
        'stopProcess needs the process to stop (its ref, pid or name); ' +
        "a ProcessRuntime's stopAll() or a Runtime's stop() stops every process",
      details: { field: 'target' },
    });
    expect([ref.alive, runtime.stopping]).toEqual([true, false]);
  });
});

describe("a Runtime's own process names", () => {
  // Found by a review: a process of the user's under a session's name made `runtime.session(id)` fail.
  it('are refused to a spawn, bare or supervised, leaving the session and module they name free', async () => {
    const runtime = await runtimeWithSession();
    for (const name of ['tether.session.free', 'tether.module.free.qa', 'tether.anything']) {
      expect(() => runtime.spawn(counterMachine, { name })).toThrow(
        expect.objectContaining({
          code: 'validation_failed',
          message: `process name '${name}' is reserved: names starting with 'tether.' are the runtime's own`,
          details: { field: 'name', name },
        }),
      );
    }
    expect(() =>
      // A supervisor's child under such a name fails to start, as any child whose spawn is refused does.
      Supervisor.start(runtime, { strategy: 'one_for_one', children: [counter('tether.session.free')] }),
    ).toThrow(expect.objectContaining({ code: 'child_start_failed' }));
    const session = await runtime.session('free');
    await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    expect(runtime.whereis('tether.session.free')).toBeDefined();
  });
});
