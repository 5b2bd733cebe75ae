/**
 * "A crashing actor never takes the Node process down" (README), and `ProcessRef.actor` is there "for advanced
 * use (subscribing, persisting)". A process whose actor a user watches with the usual next-only observer
 * (`ref.actor.subscribe((snapshot) => ...)`) must crash as any other does: told to `onError`, its callers and
 * monitors told, and nothing thrown on Node's uncaught-exception path (which ends a plain Node process).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { counterMachine } from './fixtures.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';

const newRuntime = useProcessRuntimes();

/** Captures uncaught exceptions in place of vitest's own handler for the length of one test. */
let uncaught: unknown[] = [];
let saved: NodeJS.UncaughtExceptionListener[] = [];
const capture = (error: unknown): void => void uncaught.push(error);
beforeEach(() => {
  uncaught = [];
  saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', capture);
});
afterEach(() => {
  process.off('uncaughtException', capture);
  for (const listener of saved) process.on('uncaughtException', listener);
});

describe('a crash of a process whose actor the user subscribed to', () => {
  it('is reported to onError only, never thrown at Node as an uncaught exception', async () => {
    const errors: unknown[] = [];
    const runtime = newRuntime({ onError: (error) => void errors.push(error) });
    const ref = runtime.spawn(counterMachine, { name: 'watched' });
    const states: unknown[] = [];
    ref.actor.subscribe((snapshot) => void states.push(snapshot.value));

    const call = runtime.call(ref, { type: 'crash' });
    await expect(call).rejects.toMatchObject({ code: 'process_exited' });
    // XState reports an error its observers did not all handle from a setTimeout: give it that turn.
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(ref.alive).toBe(false);
    expect(errors).toHaveLength(1);
    expect(uncaught).toEqual([]);
  });

  it('is reported to onError only when the observer is an object with next alone', async () => {
    const runtime = newRuntime({ onError: () => {} });
    const ref = runtime.spawn(counterMachine);
    ref.actor.subscribe({ next: () => {} });
    runtime.cast(ref, { type: 'crash' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ref.alive).toBe(false);
    expect(uncaught).toEqual([]);
  });

  it("still tells an observer's own error listener of the crash", async () => {
    const runtime = newRuntime({ onError: () => {} });
    const ref = runtime.spawn(counterMachine);
    const heard: unknown[] = [];
    ref.actor.subscribe({ next: () => {}, error: (error) => void heard.push(error) });
    runtime.cast(ref, { type: 'crash' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toHaveLength(1);
    expect(String(heard[0])).toMatch(/boom/);
    expect(uncaught).toEqual([]);
  });

  it('throws nothing at Node when the user subscribes after the crash', async () => {
    const runtime = newRuntime({ onError: () => {} });
    const ref = runtime.spawn(counterMachine);
    const actor = ref.actor;
    runtime.cast(ref, { type: 'crash' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    actor.subscribe(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(uncaught).toEqual([]);
  });
});
