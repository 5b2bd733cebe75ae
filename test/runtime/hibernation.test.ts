import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMachine, fromCallback, fromPromise, setup, type InspectionEvent } from 'xstate';
import { ProcessExitedError, ValidationError } from '../../src/errors.js';
import { Supervisor, type DownNotice } from '../../src/runtime/index.js';
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

  it.each(['getPersistedSnapshot', 'restoreSnapshot'] as const)(
    'crashes a process whose snapshot cannot be restored (%s throws): the waking call fails, the crash is reported',
    async (method) => {
      fakeTime();
      const crashes: unknown[] = [];
      const runtime = createRuntime({ onError: (error) => crashes.push(error) });
      const machine = setup({}).createMachine({ context: { n: 1 } });
      machine[method] = () => {
        throw new Error('snapshot from an older version');
      };
      const ref = runtime.spawn(machine, { name: 'stale', hibernateAfter: 100 });
      vi.advanceTimersByTime(200);
      expect(ref.hibernating).toBe(true);

      const woken = runtime.call('stale', { type: 'anything' });
      await expect(woken).rejects.toBeInstanceOf(ProcessExitedError);
      await expect(woken).rejects.toMatchObject({
        code: 'process_exited',
        cause: { message: 'snapshot from an older version' },
      });
      expect(ref.alive).toBe(false);
      expect(runtime.whereis('stale')).toBeUndefined();
      expect(crashes).toEqual([expect.objectContaining({ message: 'snapshot from an older version' })]);
    },
  );

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100' as unknown as number])(
    'refuses hibernateAfter %s with a ValidationError and spawns nothing',
    (hibernateAfter) => {
      const runtime = createRuntime();
      expect(() => runtime.spawn(counterMachine, { name: 'refused', hibernateAfter })).toThrow(ValidationError);
      expect(runtime.whereis('refused')).toBeUndefined();
      expect(runtime.processes()).toEqual([]);
    },
  );

  it('refuses hibernateAfter for logic that is not a state machine', () => {
    const runtime = createRuntime();
    const promise = fromPromise(async () => 'work that a restore would run again');
    expect(() => runtime.spawn(promise, { name: 'job', hibernateAfter: 100 })).toThrow(
      expect.objectContaining({ code: 'validation_failed', message: expect.stringContaining('state machine') }),
    );
    expect(runtime.processes()).toEqual([]);
  });
});
