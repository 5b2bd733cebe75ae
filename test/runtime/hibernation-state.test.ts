/**
 * What idle hibernation keeps of a process: its context as it is (cycles, actor references, deep data), its state,
 * history and tags, its last state once stopped asleep; and the events sent to its old actor, passed on to it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, sendTo, setup } from 'xstate';
import { reply } from '../../machines/protocol.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

// Tests that call vi.useFakeTimers(): the idle clock's sweeper and `Date.now` both follow `vi.advanceTimersByTime`.
afterEach(() => {
  vi.useRealTimers();
});

describe('idle hibernation: what it keeps', () => {
  it('stops a hibernating process without waking it: the reason asked for, no crash, its last state readable', async () => {
    vi.useFakeTimers();
    const crashes: unknown[] = [];
    const runtime = createRuntime({ onError: (error) => crashes.push(error) });
    let entries = 0;
    const machine = setup({}).createMachine({ context: { n: 1 }, entry: () => void entries++ });
    const ref = runtime.spawn(machine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    await runtime.stop(ref, 'normal');
    expect(ref.exitReason).toBe('normal');
    expect(crashes).toEqual([]);
    expect(entries).toBe(1);
    // Its last state stays readable, stopped as an awake process's would be; so is an actor showing it.
    expect(ref.getSnapshot()).toMatchObject({ status: 'stopped', context: { n: 1 } });
    expect(ref.actor.getSnapshot()).toMatchObject({ status: 'stopped', context: { n: 1 } });
  });

  it('keeps the context as it is across a hibernation: cycles, and references to other actors', async () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    const other = runtime.spawn(counterMachine);
    const node: { name: string; self?: unknown } = { name: 'loop' };
    node.self = node;
    const machine = setup({ types: { context: {} as { node: typeof node; peer: unknown } } }).createMachine({
      context: { node, peer: other.actor },
      on: { ping: { actions: reply(() => 'pong') } },
    });
    const ref = runtime.spawn(machine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    await expect(runtime.call(ref, { type: 'ping' })).resolves.toBe('pong');
    expect(ref.getSnapshot().context.node.self).toBe(ref.getSnapshot().context.node);
    expect(ref.getSnapshot().context.peer).toBe(other.actor);
  });

  it('keeps deep contexts and data shaped like XState actor markers as they are, without walking them', async () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    type Link = { next?: Link; n: number };
    let list: Link = { n: 0 };
    for (let i = 1; i < 20_000; i++) list = { next: list, n: i };
    // What an actor's JSON looks like: XState's own restore would replace it with undefined.
    const marker = { xstate$$type: 1, id: 'not-an-actor' };
    const machine = setup({ types: { context: {} as { list: Link; marker: object } } }).createMachine({
      context: { list, marker },
      on: { ping: { actions: reply(() => 'pong') } },
    });
    const ref = runtime.spawn(machine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    await expect(runtime.call(ref, { type: 'ping' })).resolves.toBe('pong');
    expect(ref.getSnapshot().context.list).toBe(list);
    expect(ref.getSnapshot().context.marker).toEqual({ xstate$$type: 1, id: 'not-an-actor' });
  });

  it('keeps the state, history and tags across a hibernation', async () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    const machine = setup({}).createMachine({
      initial: 'on',
      states: {
        on: {
          initial: 'a',
          states: { a: { on: { next: 'b' } }, b: { tags: ['second'] }, hist: { type: 'history' } },
          on: { off: 'off' },
        },
        off: { on: { back: 'on.hist' } },
      },
    });
    const ref = runtime.spawn(machine, { hibernateAfter: 100 });
    runtime.cast(ref, { type: 'next' });
    runtime.cast(ref, { type: 'off' });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    runtime.cast(ref, { type: 'back' });
    expect(ref.getSnapshot().value).toEqual({ on: 'b' });
    expect(ref.getSnapshot().hasTag('second')).toBe(true);
  });

  it('passes on what another actor sends to the old actor (sendTo), waking the process', () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    const target = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    const peer = runtime.spawn(
      setup({
        types: { input: {} as { to: typeof target.actor }, context: {} as { to: typeof target.actor } },
      }).createMachine({
        context: ({ input }) => ({ to: input.to }),
        on: { poke: { actions: sendTo(({ context }) => context.to, { type: 'increment' }) } },
      }),
      { input: { to: target.actor } },
    );
    vi.advanceTimersByTime(200);
    expect(target.hibernating).toBe(true);

    runtime.cast(peer, { type: 'poke' });
    expect(target.hibernating).toBe(false);
    expect(target.getSnapshot().context.count).toBe(1);
  });

  it('passes an event sent to the old actor after the hibernation on to the process', () => {
    vi.useFakeTimers();
    const runtime = createRuntime();
    let saver: { send(event: { type: string }): void } | undefined;
    const machine = setup({ types: { context: {} as { saved: number } } }).createMachine({
      context: { saved: 0 },
      initial: 'idle',
      states: {
        // The action starts work outside XState (as a store write does) and answers through `self` later.
        idle: { on: { save: { target: 'saving', actions: ({ self }) => void (saver = self) } } },
        saving: { on: { saved: { target: 'idle', actions: assign({ saved: ({ context }) => context.saved + 1 }) } } },
      },
    });
    const ref = runtime.spawn(machine, { hibernateAfter: 100 });
    runtime.cast(ref, { type: 'save' });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    saver?.send({ type: 'saved' });
    expect(ref.hibernating).toBe(false);
    expect(ref.getSnapshot().value).toBe('idle');
    expect(ref.getSnapshot().context.saved).toBe(1);
  });
});
