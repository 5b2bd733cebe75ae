import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, SessionError, createEchoModel, createMemoryStore, type VariableRecord } from '../src/index.js';
import { moduleProcessName } from '../src/node/module-directory.js';
import { waitFor } from './support/wait-for.js';

/**
 * A memory store that holds the next write once it started, after `holdNext()`: a write in flight for as long as the
 * test wants. `inFlight` resolves once it started; `release()` lets it land.
 */
function holdingStore() {
  const memory = createMemoryStore<VariableRecord>();
  let hold = false;
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const store: typeof memory = Object.create(memory, {
    commit: {
      value: async (writes: Parameters<typeof memory.commit>[0]) => {
        if (hold) {
          hold = false;
          started();
          await gate;
        }
        return memory.commit(writes);
      },
    },
  });
  return { memory, store, holdNext: () => void (hold = true), inFlight, release };
}

describe('session.delete() on an embedded runtime', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('removes the variables with their history, ends the process, its modules and its watches', async () => {
    const { store, holdNext, inFlight, release } = holdingStore();
    runtime = await Runtime.start({ store, llm: createEchoModel() });
    const session = await runtime.session('doomed');
    await session.defineVariable('temperature', 'float', 0.1);
    await session.setVariable('temperature', 0.2);
    await session.defineVariable('gone', 'string', 'x');
    await session.deleteVariable('gone');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const heard: unknown[] = [];
    await session.watchVariables('*', (change) => heard.push(change));
    const other = await runtime.session('bystander');
    await other.defineVariable('kept', 'integer', 1);
    // A write in flight when the deletion comes finishes first, and goes with the rest.
    holdNext();
    const racing = session.setVariable('temperature', 0.3).catch((error: unknown) => error);
    await inFlight;

    const deleting = session.delete();
    release();
    await deleting;

    // It finished before the deletion (acknowledged, not refused), and its value went with the rest.
    expect(await racing).not.toBeInstanceOf(Error);
    expect(await racing).toMatchObject({ version: 3 });
    expect(await store.keys('doomed.')).toEqual([]);
    expect(await store.history('doomed.temperature')).toEqual([]);
    expect(await store.history('doomed.gone')).toEqual([]);
    expect(runtime.sessionIds()).not.toContain('doomed');
    expect(runtime.whereis(moduleProcessName('doomed', 'qa'))).toBeUndefined();
    const error = await session.getVariable('temperature').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_not_found', sessionId: 'doomed' });
    await expect(qa.execute({ question: 'still?' })).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(session.delete()).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await other.getVariable('kept')).toBe(1);

    // The id opened again is a new, empty session; the old watch hears nothing of it.
    const fresh = await runtime.session('doomed');
    expect(await fresh.listVariables()).toEqual([]);
    expect(await fresh.defineVariable('temperature', 'float', 1)).toMatchObject({ version: 1 });
    expect((await fresh.variableHistory('temperature')).map((entry) => entry.value)).toEqual([1]);
    expect(heard.filter((change) => (change as { newValue?: unknown }).newValue === 1)).toEqual([]);
    await expect(session.getVariable('temperature')).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('answers a write queued behind one in flight as deleted, though a stop came after the deletion', async () => {
    // The first write held once it started: the deletion and the stop come while it is in flight.
    const { memory, store, holdNext, inFlight, release } = holdingStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('doomed');
    await session.defineVariable('x', 'integer', 1);
    holdNext();
    const first = session.setVariable('x', 2);
    await inFlight;
    const queued = session.setVariable('x', 3).catch((error: unknown) => error);
    const deleting = session.delete();
    // The deletion's marker is written (and heard by the runtime's router) before its process is ended.
    await waitFor(async () => (await memory.history('doomed.=ended')).length > 0);
    const stopping = (await runtime.session('doomed')).stop();
    release();
    await expect(first).resolves.toMatchObject({ version: 2 });
    expect(await queued).toMatchObject({ code: 'session_not_found' });
    await deleting;
    await stopping;
  });

  it('deletes a stopped session, whose variables stayed', async () => {
    const store = createMemoryStore<VariableRecord>();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('stopped');
    await session.defineVariable('x', 'integer', 1);
    await session.stop();
    await session.delete();
    expect(await store.keys('stopped.')).toEqual([]);
    expect(await (await runtime.session('stopped')).hasVariable('x')).toBe(false);
  });

  it('leaves a handle stopped before the deletion saying session_stopped, and the others session_not_found', async () => {
    runtime = await Runtime.start();
    const stopped = await runtime.session('both');
    await stopped.defineVariable('x', 'integer', 1);
    await stopped.stop();
    const deleter = await runtime.session('both');
    const other = await runtime.session('both');
    await deleter.delete();
    await expect(stopped.getVariable('x')).rejects.toMatchObject({ code: 'session_stopped' });
    await expect(other.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(deleter.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('finishes a deletion asked before runtime.stop() before the stop resolves', async () => {
    // A store that takes its time over the deletion's marker: the stop comes while the deletion waits for it.
    const memory = createMemoryStore<VariableRecord>();
    const store: typeof memory = Object.create(memory, {
      delete: {
        value: async (...args: Parameters<typeof memory.delete>) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return memory.delete(...args);
        },
      },
    });
    runtime = await Runtime.start({ store });
    const session = await runtime.session('going');
    await session.defineVariable('x', 'integer', 1);
    await session.defineVariable('y', 'string', 'a');
    const deleting = session.delete();
    await runtime.stop();
    // Nothing of this runtime writes to the store once its stop resolved: the purge is done by then.
    expect(await store.keys('going.')).toEqual([]);
    await expect(deleting).resolves.toBeUndefined();
  });

  it('leaves no history behind when a session expires', async () => {
    const store = createMemoryStore<VariableRecord>();
    runtime = await Runtime.start({ store, sessionTtlMs: 40 });
    const session = await runtime.session('idle');
    await session.defineVariable('x', 'integer', 1);
    await session.setVariable('x', 2);
    await expect.poll(() => store.keys('idle.'), { timeout: 3000 }).toEqual([]);
    expect(await store.history('idle.x')).toEqual([]);
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_expired' });
  });
});
