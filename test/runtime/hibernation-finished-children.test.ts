/**
 * A process whose snapshot holds a finished child actor does not hibernate until it stops that child: a restored
 * snapshot could not carry the child, and the process woken was not the same one (found in review: the child's
 * output read `null`, and an event to it that XState drops while awake crashed the process, which its supervisor
 * then restarted from scratch).
 */
import { afterEach, expect, it, vi } from 'vitest';
import { assign, fromPromise, sendTo, setup, spawnChild, stopChild } from 'xstate';
import { reply, type CallEnvelope } from '../../machines/protocol.js';
import { Supervisor } from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';

const createRuntime = useProcessRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A process that starts a worker child at entry and, later, pokes it by id (XState drops an event to a finished
 * actor) and reads its result through `snapshot.children`, as XState documents; `release` stops the child.
 */
const job = fromPromise(async () => 42);
const machine = setup({
  types: {
    context: {} as { pokes: number },
    events: {} as CallEnvelope & { type: 'poke' | 'result' | 'release' },
  },
  actors: { job },
}).createMachine({
  context: { pokes: 0 },
  entry: spawnChild('job', { id: 'worker' }),
  on: {
    poke: {
      actions: [
        sendTo('worker', { type: 'cancel' }),
        assign({ pokes: ({ context }) => context.pokes + 1 }),
        reply(({ context }) => context.pokes),
      ],
    },
    result: {
      actions: reply(({ self }) => {
        const worker = (self.getSnapshot().children as Record<string, { getSnapshot(): { output?: unknown } }>).worker;
        return worker?.getSnapshot().output ?? null;
      }),
    },
    release: { actions: [stopChild('worker'), reply(() => 'released')] },
  },
});

it('stays awake while it holds a finished child, and still reads its output', async () => {
  vi.useFakeTimers();
  const runtime = createRuntime();
  const process = runtime.spawn(machine, { hibernateAfter: 100 });
  await vi.advanceTimersByTimeAsync(2_000);
  expect(process.hibernating).toBe(false);
  await expect(runtime.call(process, { type: 'result' })).resolves.toBe(42);

  // Once it stopped the child, nothing holds it awake.
  await expect(runtime.call(process, { type: 'release' })).resolves.toBe('released');
  await vi.advanceTimersByTimeAsync(2_000);
  expect(process.hibernating).toBe(true);
  await expect(runtime.call(process, { type: 'result' })).resolves.toBeNull();
});

it('a supervised child is not crashed (and reset by a restart) by an event it handled before', async () => {
  vi.useFakeTimers();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const crashes: unknown[] = [];
  const runtime = createRuntime({ onError: (error) => crashes.push(error) });
  const supervisor = Supervisor.start(runtime, {
    children: [{ id: 'w', start: () => ({ logic: machine, name: 'w', hibernateAfter: 100 }) }],
  });
  const first = supervisor.child('w');
  await vi.advanceTimersByTimeAsync(10);
  await expect(runtime.call('w', { type: 'poke' })).resolves.toBe(1);

  await vi.advanceTimersByTimeAsync(2_000);
  await expect(runtime.call('w', { type: 'poke' })).resolves.toBe(2);
  expect(supervisor.child('w')).toBe(first);
  expect(first?.alive).toBe(true);
  expect(crashes).toEqual([]);
});
