/**
 * Idle hibernation (spawn with `hibernateAfter`): when an idle process goes to sleep (its actor stopped, its state
 * kept), what keeps it awake, what wakes it, and what its monitors, links, supervisor and inspector see of it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMachine, fromCallback, type InspectionEvent } from 'xstate';
import { Supervisor, type DownNotice, type ProcessRef } from '../../src/runtime/index.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

// Tests that call vi.useFakeTimers(): the idle clock's sweeper and `Date.now` both follow `vi.advanceTimersByTime`.
afterEach(() => {
  vi.useRealTimers();
});

describe('idle hibernation (spawn with hibernateAfter)', () => {
  it('stops the actor of an idle process and keeps its state; the next call restores it in a new actor', async () => {
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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
    vi.useFakeTimers();
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

  it('does not hibernate a process observed through its actor, until the observer leaves', () => {
    vi.useFakeTimers();
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
});
