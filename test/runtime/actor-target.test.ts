import { describe, expect, it } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { NoProcError } from '../../src/errors.js';
import type { ProcessRef } from '../../src/runtime/index.js';
import { counterMachine } from './fixtures.js';

/** Every test builds its own runtime; the list only lets `afterEach` stop what a failed test left running. */
const createRuntime = useProcessRuntimes();

describe('a process target given as its XState actor', () => {
  it('is refused with a NoProcError that says it is an actor, not that the live process is dead', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(counterMachine, { name: 'counter' });
    // What an Elixir developer reaches for as `self()` (XState's `self`, or the handle's `actor`): typed out, but JS
    // callers and casts get through. It read "no process 'counter' is alive" of a process that was.
    const actor = ref.actor as unknown as ProcessRef;
    const called = runtime.call(actor, { type: 'get' });
    await expect(called).rejects.toBeInstanceOf(NoProcError);
    await expect(called).rejects.toThrow(/'counter' is an XState actor, not a process handle/);
    expect(() => runtime.link(actor, ref)).toThrow(/not a process handle: pass the handle spawn returned/);
    expect(() => runtime.monitor(ref, { notify: actor })).toThrow(/or the process's name/);
    expect(ref.alive).toBe(true);
    await expect(runtime.call(ref, { type: 'get' })).resolves.toBe(0);
  });
});
