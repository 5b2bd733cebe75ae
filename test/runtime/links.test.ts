import { describe, expect, it } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError, ProcessExitedError } from '../../src/errors.js';
import { counterMachine } from './fixtures.js';

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

  it('travels along a chain of links', () => {
    const runtime = createRuntime();
    const [a, b, c] = [0, 1, 2].map(() => runtime.spawn(counterMachine));
    runtime.link(a!, b!);
    runtime.link(b!, c!);
    runtime.cast(a!, { type: 'crash' });
    expect(c!.exitReason).toEqual({ linked: b!.id, reason: { linked: a!.id, reason: { error: new Error('boom') } } });
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

  it('throws NoProcError when either side is not alive', async () => {
    const runtime = createRuntime();
    const a = runtime.spawn(counterMachine);
    const dead = runtime.spawn(counterMachine);
    await runtime.stop(dead);
    expect(() => runtime.link(a, dead)).toThrow(NoProcError);
    expect(() => runtime.link('nobody', a)).toThrow(NoProcError);
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
});
