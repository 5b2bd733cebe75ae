import { describe, expect, it } from 'vitest';
import type { AnyActorLogic } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError, ProcessExitedError } from '../../src/errors.js';
import { Supervisor, type DownNotice, type ProcessRef, type ProcessRuntime } from '../../src/runtime/index.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { counterMachine, idleLogic } from './fixtures.js';

const createRuntime = useProcessRuntimes();

describe('links', () => {
  it('stops the linked process with a reason naming the crash', () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine);
    runtime.link(a, b);
    runtime.cast(a, { type: 'crash' });
    expect(b.alive).toBe(false);
    expect(b.exitReason).toEqual({ linked: a.id, reason: { error: new Error('boom') } });
  });

  it('works in both directions', () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine, { name: 'b' });
    runtime.link(a, 'b');
    runtime.cast(b, { type: 'crash' });
    expect(a.exitReason).toEqual({ linked: b.id, reason: { error: new Error('boom') } });
  });

  it('propagates a stop reason other than normal, as Erlang does with shutdown', async () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine);
    runtime.link(a, b);
    await runtime.stop(a);
    expect(b.exitReason).toEqual({ linked: a.id, reason: 'shutdown' });
  });

  it('leaves the linked process running when the exit is normal', () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine);
    runtime.link(a, b);
    runtime.cast(a, { type: 'finish' });
    expect(a.exitReason).toBe('normal');
    expect(b.alive).toBe(true);
  });

  // Found by mutation: a process that lived on kept every linked process that had exited normally.
  it('lets go of a linked process that exited normally while its peer lives on', async () => {
    const runtime = createRuntime();
    const longLived = runtime.spawn(counterMachine, { name: 'long-lived' });
    let worker: ProcessRef | undefined = runtime.spawn(counterMachine);
    runtime.link(longLived, worker);
    const held = new WeakRef(worker.actor);
    runtime.cast(worker, { type: 'finish' });
    expect(worker.exitReason).toBe('normal');
    worker = undefined;
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(held.deref()).toBeUndefined();
    expect(longLived.alive).toBe(true);
  });

  it('travels along a chain of links', () => {
    const runtime = createRuntime();
    const [a, b, c] = [0, 1, 2].map(() => runtime.spawn(counterMachine));
    runtime.link(a!, b!);
    runtime.link(b!, c!);
    runtime.cast(a!, { type: 'crash' });
    // The reason that travels is the one that started it, as in Erlang: `linked` names the process that passed it on.
    expect(b!.exitReason).toEqual({ linked: a!.id, reason: { error: new Error('boom') } });
    expect(c!.exitReason).toEqual({ linked: b!.id, reason: { error: new Error('boom') } });
  });

  it('stops nothing once unlinked', () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine);
    const unlink = runtime.link(a, b);
    unlink();
    runtime.cast(a, { type: 'crash' });
    expect(b.alive).toBe(true);
  });

  // Found by mutation: an unlink that freed only the first side still let the second side's exit stop the first.
  it('stops nothing once unlinked, whichever side exits', () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine);
    const unlink = runtime.link(a, b);
    unlink();
    runtime.cast(b, { type: 'crash' });
    expect(b.alive).toBe(false);
    expect(a.alive).toBe(true);
  });

  it('throws NoProcError when either side is not alive', async () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const dead = runtime.spawn(counterMachine);
    await runtime.stop(dead);
    expect(() => runtime.link(a, dead)).toThrow(NoProcError);
    expect(() => runtime.link('nobody', a)).toThrow(NoProcError);
    // The side that is gone is named, whichever side it is on.
    expect(() => runtime.link(a, dead)).toThrow(`no process '${dead.id}' is alive`);
    expect(() => runtime.link('nobody', a)).toThrow("no process 'nobody' is alive");
    expect(() => runtime.link(a, 'nobody')).toThrow("no process 'nobody' is alive");
    expect(a.alive).toBe(true);
  });

  it('fails a call to the linked process with ProcessExitedError whose cause is the original crash', async () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const b = runtime.spawn(counterMachine, { name: 'b' });
    runtime.link(a, b);
    const pending = runtime.call('b', { type: 'hold' }).catch((e: unknown) => e);
    runtime.cast(a, { type: 'crash' });
    const error = await pending;
    expect(error).toBeInstanceOf(ProcessExitedError);
    expect(error).toMatchObject({ reason: `linked ${a.id} exited: crash: boom` });
    expect((error as Error).cause).toEqual(new Error('boom'));
  });

  /** `length` processes linked in a line, the first running `first`. */
  function chain(runtime: ProcessRuntime, length: number, first: AnyActorLogic = idleLogic): ProcessRef[] {
    const refs = Array.from({ length }, (_, i) => runtime.spawn(i === 0 ? first : idleLogic, { name: `p${i}` }));
    for (let i = 1; i < length; i++) runtime.link(refs[i - 1]!, refs[i]!);
    return refs;
  }

  it('takes down a chain of thousands, each one stopped and let go, the reason as deep as one link', async () => {
    const errors: unknown[] = [];
    const runtime = createRuntime({ onError: (error) => void errors.push(error) });
    const stopped = chain(runtime, 3000);
    await runtime.stop(stopped[0]!);
    expect(stopped.filter((ref) => ref.alive)).toEqual([]);
    expect(stopped[2999]!.exitReason).toEqual({ linked: stopped[2998]!.id, reason: 'shutdown' });

    const crashed = chain(runtime, 3000, counterMachine);
    runtime.cast(crashed[0]!, { type: 'crash' });
    expect(crashed.filter((ref) => ref.alive)).toEqual([]);
    // A reason the runtime made is one `stop` takes.
    const last = crashed[2999]!.exitReason!;
    expect(last).toEqual({ linked: crashed[2998]!.id, reason: { error: new Error('boom') } });
    const other = runtime.spawn(counterMachine);
    await runtime.stop(other, last);
    expect(other.exitReason).toEqual(last);
    // Nothing left registered, nothing reported but the crash, and the runtime stops what is left.
    expect(runtime.processes()).toEqual([]);
    expect(errors).toEqual([new Error('boom')]);
    await runtime.stopAll();
  });

  it('tells monitors of the process that exited before those its exit took down', async () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine, { name: 'a' });
    const b = runtime.spawn(counterMachine, { name: 'b' });
    const c = runtime.spawn(counterMachine, { name: 'c' });
    runtime.link(a, b);
    runtime.link(b, c);
    const order: (string | undefined)[] = [];
    for (const ref of [c, b, a]) runtime.monitor(ref, (notice: DownNotice) => void order.push(notice.name));
    runtime.cast(a, { type: 'crash' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('costs a rest_for_one supervisor one restart for one crash of a child linked to the next', async () => {
    const runtime = createRuntime();
    const started: string[] = [];
    const child = (id: string) => ({ id, start: () => (started.push(id), { logic: counterMachine, name: id }) });
    const supervisor = Supervisor.start(runtime, {
      strategy: 'rest_for_one',
      maxRestarts: 1,
      children: [child('a'), child('b')],
    });
    runtime.link('a', 'b');
    started.length = 0;
    runtime.cast('a', { type: 'crash' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started).toEqual(['a', 'b']);
    expect(supervisor.alive).toBe(true);
  });
});
