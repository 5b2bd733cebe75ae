import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { Supervisor, type ProcessRef } from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

/** The EXIT notices a counter process recorded. */
const exitsOf = (ref: ProcessRef<typeof counterMachine>) => ref.getSnapshot().context.exits;

describe('trapping exits (spawn with trapExit)', () => {
  it('turns the crash of a linked process into an EXIT event, and lives on', () => {
    const runtime = createRuntime();
    const trapper = runtime.spawn(counterMachine, { trapExit: true });
    const crasher = runtime.spawn(counterMachine, { name: 'crasher' });
    runtime.link(trapper, crasher);
    runtime.cast(crasher, { type: 'crash' });
    expect(trapper.alive).toBe(true);
    expect(exitsOf(trapper)).toEqual([
      { type: 'EXIT', from: crasher.id, name: 'crasher', reason: { error: new Error('boom') } },
    ]);
  });

  it('is told of a normal exit too, which stops no process that does not trap', () => {
    const runtime = createRuntime();
    const trapper = runtime.spawn(counterMachine, { trapExit: true });
    const bystander = runtime.spawn(counterMachine);
    const finisher = runtime.spawn(counterMachine);
    runtime.link(finisher, trapper);
    runtime.link(finisher, bystander);
    runtime.cast(finisher, { type: 'finish' });
    expect(exitsOf(trapper)).toEqual([{ type: 'EXIT', from: finisher.id, name: undefined, reason: 'normal' }]);
    expect(bystander.alive).toBe(true);
    expect(exitsOf(bystander)).toEqual([]);
  });

  it('ends a chain of links: what is linked to the trapping process is not reached', () => {
    const runtime = createRuntime();
    const [crasher, trapper, beyond] = [
      runtime.spawn(counterMachine),
      runtime.spawn(counterMachine, { trapExit: true }),
      runtime.spawn(counterMachine),
    ];
    runtime.link(crasher, trapper);
    runtime.link(trapper, beyond);
    runtime.cast(crasher, { type: 'crash' });
    expect([trapper.alive, beyond.alive]).toEqual([true, true]);
  });

  it('passes its own crash on to the processes linked to it, as any process does', () => {
    const runtime = createRuntime();
    const trapper = runtime.spawn(counterMachine, { trapExit: true });
    const peer = runtime.spawn(counterMachine);
    runtime.link(trapper, peer);
    runtime.cast(trapper, { type: 'crash' });
    expect(peer.exitReason).toEqual({ linked: trapper.id, reason: { error: new Error('boom') } });
  });

  it('is still stopped by runtime.stop, which its links hear of', async () => {
    const runtime = createRuntime();
    const trapper = runtime.spawn(counterMachine, { trapExit: true });
    const peer = runtime.spawn(counterMachine);
    runtime.link(trapper, peer);
    await runtime.stop(trapper, 'shutdown');
    expect(trapper.exitReason).toBe('shutdown');
    expect(peer.exitReason).toEqual({ linked: trapper.id, reason: 'shutdown' });
  });

  it('wakes a hibernating process to hand it the notice', () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    const trapper = runtime.spawn(counterMachine, { trapExit: true, hibernateAfter: 100 });
    const crasher = runtime.spawn(counterMachine);
    runtime.link(trapper, crasher);
    vi.advanceTimersByTime(200);
    expect(trapper.hibernating).toBe(true);
    runtime.cast(crasher, { type: 'crash' });
    expect(trapper.hibernating).toBe(false);
    expect(exitsOf(trapper).map((notice) => notice.from)).toEqual([crasher.id]);
  });

  it('refuses a trapExit that is not true or false, naming it, and spawns nothing', () => {
    const runtime = createRuntime();
    const spawn = () => runtime.spawn(counterMachine, { name: 'p', trapExit: 'false' as unknown as boolean });
    expect(spawn).toThrow(ValidationError);
    expect(spawn).toThrow("spawn option 'trapExit' must be true or false, got a string");
    expect(runtime.whereis('p')).toBeUndefined();
    expect(runtime.processes()).toEqual([]);
  });
});

describe('supervisors trap exits', () => {
  it('stay up when a process linked to them crashes, their children untouched', () => {
    const runtime = createRuntime();
    const supervisor = Supervisor.start(runtime, {
      children: [{ id: 'worker', start: () => ({ logic: counterMachine, name: 'worker' }) }],
    });
    const worker = runtime.whereis('worker');
    const stranger = runtime.spawn(counterMachine);
    runtime.link(stranger, supervisor.ref);
    runtime.cast(stranger, { type: 'crash' });
    expect(supervisor.alive).toBe(true);
    expect(runtime.whereis('worker')).toBe(worker);
  });

  it('restart a crashed child that was linked to them, and stay up', async () => {
    const runtime = createRuntime();
    const supervisor = Supervisor.start(runtime, {
      children: [{ id: 'worker', start: () => ({ logic: counterMachine, name: 'worker' }) }],
    });
    const worker = runtime.whereis('worker')!;
    runtime.link(worker, supervisor.ref);
    runtime.cast(worker, { type: 'crash' });
    await vi.waitFor(() => expect(runtime.whereis('worker')?.alive).toBe(true));
    expect(runtime.whereis('worker')).not.toBe(worker);
    expect(supervisor.alive).toBe(true);
  });
});
