import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createMachine, fromCallback, fromPromise, sendTo, setup, type InspectionEvent } from 'xstate';
import { reply } from '../../machines/protocol.js';
import { ValidationError, errorToJSON } from '../../src/errors.js';
import { Supervisor, type DownNotice, type ProcessRef } from '../../src/runtime/index.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

/** Fake timers from here on: the idle clock's sweeper and `Date.now` both follow `vi.advanceTimersByTime`. */
function fakeTime(): void {
  vi.useFakeTimers();
}

describe('idle hibernation (spawn with hibernateAfter)', () => {
  it('stops the actor of an idle process and keeps its state; the next call restores it in a new actor', async () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { name: 'counter', hibernateAfter: 100 });
    await runtime.call('counter', { type: 'increment', by: 2 });
    const sleepingActor = ref.actor;

    vi.advanceTimersByTime(200);

    expect(ref.hibernating).toBe(true);
    expect(ref.alive).toBe(true);
    expect(runtime.whereis('counter')).toBe(ref);
    expect(runtime.processes()).toContain(ref);
    expect(ref.getSnapshot().context.count).toBe(2);
    expect(sleepingActor.getSnapshot().status).toBe('stopped');

    await expect(runtime.call('counter', { type: 'increment' })).resolves.toBe(3);
    expect(ref.hibernating).toBe(false);
    expect(ref.actor).not.toBe(sleepingActor);
    expect(ref.actor.getSnapshot().status).toBe('active');
    expect(ref.getSnapshot().context.count).toBe(3);
  });

  it('stays awake while messages keep coming, each one sooner than hibernateAfter', async () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(70);
      expect(ref.hibernating).toBe(false);
      if (i % 2 === 0) runtime.cast(ref, { type: 'increment' });
      else await runtime.call(ref, { type: 'get' });
    }
    vi.advanceTimersByTime(150);
    expect(ref.hibernating).toBe(true);
  });

  it('counts every call and cast as activity, and hibernates again after waking', async () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(60);
      runtime.cast(ref, { type: 'increment' });
    }
    expect(ref.hibernating).toBe(false);

    vi.advanceTimersByTime(150);
    expect(ref.hibernating).toBe(true);
    // A cast wakes it as a call does, and the event is not lost.
    runtime.cast(ref, { type: 'increment' });
    expect(ref.hibernating).toBe(false);
    expect(ref.getSnapshot().context.count).toBe(6);

    vi.advanceTimersByTime(150);
    expect(ref.hibernating).toBe(true);
    await expect(runtime.call(ref, { type: 'get' })).resolves.toBe(6);
  });

  it('is no exit: monitors and links see nothing, and a stop while hibernating exits the process', async () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { name: 'sleeper', hibernateAfter: 100 });
    const peer = runtime.spawn(counterMachine);
    runtime.link(ref, peer);
    const notices: DownNotice[] = [];
    runtime.monitor(ref, (notice) => notices.push(notice));

    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);
    await Promise.resolve();
    expect(notices).toEqual([]);
    expect(peer.alive).toBe(true);

    await runtime.stop(ref, { shutdown: 'maintenance' });
    expect(ref.alive).toBe(false);
    expect(ref.hibernating).toBe(false);
    expect(ref.exitReason).toEqual({ shutdown: 'maintenance' });
    expect(runtime.whereis('sleeper')).toBeUndefined();
    await vi.waitFor(() => expect(notices.map((notice) => notice.reason)).toEqual([{ shutdown: 'maintenance' }]));
    // A link passes on an abnormal exit, and a shutdown with a reason is one.
    expect(peer.alive).toBe(false);
    // Its last state stays readable after the exit, as for any process.
    expect(ref.getSnapshot().context.count).toBe(0);
  });

  it('wakes a hibernating process whose actor is read, so a subscriber gets a live actor', () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    const counts: number[] = [];
    ref.actor.subscribe((snapshot) => counts.push(snapshot.context.count));
    expect(ref.hibernating).toBe(false);
    runtime.cast(ref, { type: 'increment' });
    expect(counts).toEqual([1]);
  });

  // Found by mutation: a process woken by a read of its actor, not by a call or cast, never hibernated again.
  it('hibernates again after a read of its actor woke it, once idle as long again', () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    ref.actor.send({ type: 'increment' });
    expect(ref.hibernating).toBe(false);
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);
    expect(ref.getSnapshot().context.count).toBe(1);
  });

  // Found by mutation: the idle clock kept the idle time of a process that exited, and with it the process.
  it('lets go of a process that exited: its idle time is not kept', async () => {
    const runtime = createRuntime();
    let ref: ProcessRef | undefined = runtime.spawn(counterMachine, { hibernateAfter: 60_000 });
    const held = new WeakRef(ref);
    await runtime.stop(ref);
    ref = undefined;
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(held.deref()).toBeUndefined();
  });

  it('does not hibernate a process a caller is waiting on', async () => {
    fakeTime();
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    const held = runtime.call(ref, { type: 'hold' }, { timeout: 60_000 });

    vi.advanceTimersByTime(1000);
    expect(ref.hibernating).toBe(false);

    runtime.cast(ref, { type: 'release' });
    await expect(held).resolves.toBe('held #0');
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);
  });

  it('does not hibernate a process with a delayed event pending or a child actor running', () => {
    fakeTime();
    const runtime = createRuntime();
    const delayed = runtime.spawn(
      createMachine({ initial: 'waiting', states: { waiting: { after: { 5000: 'done' } }, done: {} } }),
      { hibernateAfter: 100 },
    );
    const parent = runtime.spawn(createMachine({ invoke: { src: fromCallback(() => () => {}) } }), {
      hibernateAfter: 100,
    });

    vi.advanceTimersByTime(1000);
    expect(delayed.hibernating).toBe(false);
    expect(parent.hibernating).toBe(false);

    // Once the delay has fired, nothing is pending any more.
    vi.advanceTimersByTime(4200);
    expect(delayed.getSnapshot().value).toBe('done');
    expect(delayed.hibernating).toBe(true);
    expect(parent.hibernating).toBe(false);
  });

  it('shows the woken actor to the inspector', async () => {
    fakeTime();
    const seen: InspectionEvent[] = [];
    const runtime = createRuntime({ inspect: (event) => seen.push(event) });
    const ref = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);

    seen.length = 0;
    await runtime.call(ref, { type: 'increment' });
    const events = seen.filter((event) => event.type === '@xstate.event' && event.actorRef === ref.actor);
    expect(events.map((event) => (event as { event: { type: string } }).event.type)).toContain('increment');
  });

  // Found in review: the inspector was shown `xstate.stop` as the process went to sleep, alive.
  it('shows the inspector no stop as the process goes to sleep, and one when it is stopped for good asleep', () => {
    fakeTime();
    const stops: { id: string; status: string }[] = [];
    const runtime = createRuntime({
      inspect: (event) => {
        if (event.type !== '@xstate.snapshot' || event.event.type !== 'xstate.stop') return;
        const { id } = event.actorRef as unknown as { id: string };
        stops.push({ id, status: (event.snapshot as { status: string }).status });
      },
    });
    const ref = runtime.spawn(counterMachine, { name: 'sleepy', hibernateAfter: 100 });
    runtime.cast(ref, { type: 'increment' });
    vi.advanceTimersByTime(200);
    expect(ref.hibernating).toBe(true);
    expect(stops).toEqual([]);

    runtime.stop(ref);
    expect(ref.alive).toBe(false);
    expect(stops).toEqual([{ id: 'sleepy', status: 'stopped' }]);
  });

  it('leaves a hibernating supervised child alone: no restart, the same process wakes', async () => {
    fakeTime();
    const runtime = createRuntime();
    const sup = Supervisor.start(runtime, {
      children: [{ id: 'worker', start: () => ({ logic: counterMachine, name: 'worker', hibernateAfter: 100 }) }],
    });
    const worker = sup.child('worker');
    await runtime.call('worker', { type: 'increment' });

    vi.advanceTimersByTime(200);
    expect(worker?.hibernating).toBe(true);
    expect(sup.child('worker')).toBe(worker);

    await expect(runtime.call('worker', { type: 'get' })).resolves.toBe(1);
    expect(sup.child('worker')).toBe(worker);
    expect(runtime.whereis('worker')).toBe(worker);
  });

  it('stops a hibernating process without waking it: the reason asked for, no crash, its last state readable', async () => {
    fakeTime();
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
    fakeTime();
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
    fakeTime();
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
    fakeTime();
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
    fakeTime();
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
    fakeTime();
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

  it('does not hibernate a process observed through its actor, until the observer leaves', () => {
    fakeTime();
    const runtime = createRuntime();
    const subscribed = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    const listened = runtime.spawn(counterMachine, { hibernateAfter: 100 });
    const subscription = subscribed.actor.subscribe(() => {});
    const listener = listened.actor.on('*', () => {});

    vi.advanceTimersByTime(500);
    expect([subscribed.hibernating, listened.hibernating]).toEqual([false, false]);

    subscription.unsubscribe();
    listener.unsubscribe();
    vi.advanceTimersByTime(250);
    expect([subscribed.hibernating, listened.hibernating]).toEqual([true, true]);
  });

  it.each([0, 0.5, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100' as unknown as number])(
    'refuses hibernateAfter %s with a ValidationError and spawns nothing',
    (hibernateAfter) => {
      const runtime = createRuntime();
      expect(() => runtime.spawn(counterMachine, { name: 'refused', hibernateAfter })).toThrow(ValidationError);
      expect(runtime.whereis('refused')).toBeUndefined();
      expect(runtime.processes()).toEqual([]);
    },
  );

  it('names a refused NaN or Infinity in details as JSON can carry it, not as null', () => {
    const runtime = createRuntime();
    for (const [hibernateAfter, shown] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [0.5, 0.5],
    ] as const) {
      let error: unknown;
      try {
        runtime.spawn(counterMachine, { hibernateAfter });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(JSON.parse(JSON.stringify(errorToJSON(error))).details).toEqual({ hibernateAfter: shown });
    }
  });

  it('refuses hibernateAfter for logic that is not a state machine', () => {
    const runtime = createRuntime();
    const promise = fromPromise(async () => 'work that a restore would run again');
    expect(() => runtime.spawn(promise, { name: 'job', hibernateAfter: 100 })).toThrow(
      expect.objectContaining({ code: 'validation_failed', message: expect.stringContaining('state machine') }),
    );
    expect(runtime.processes()).toEqual([]);
  });
});
