/**
 * A module whose type is a variable reads that variable before its execution is queued (the input check), with the
 * module already woken. That read may wait (its session's process crashed and is loaded again), and the module
 * hibernate or be stopped with its session meanwhile: the execution runs on the module woken again, or fails as the
 * module's next calls do, never with `noproc` (which says the module crashed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createEchoModel, type Store, type VariableRecord } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { crashOnWrite, createFaultyStore, type Faults } from '../support/faulty-store.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SPEC = { typeVariable: 'kind', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/** A faulty store whose `list` (a session's load) waits while `held` is set. */
function gatedStore(): { store: Store<VariableRecord>; faults: Faults; hold(): void; release(): void } {
  const { store, faults } = createFaultyStore();
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const gated: Store<VariableRecord> = {
    ...store,
    async list(prefix) {
      if (gate) await gate;
      return store.list(prefix);
    },
  };
  return {
    store: gated,
    faults,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
  };
}

describe('a module woken by execute while its type variable is read', () => {
  let runtime: Runtime | undefined;
  let release: (() => void) | undefined;
  afterEach(async () => {
    release?.();
    await runtime?.stop();
  });

  /** A session with a module whose type is a variable, its process crashed: its next use loads it from the store. */
  async function crashedSession(sessionId: string, options: { hibernateAfterMs?: number } = {}) {
    const gated = gatedStore();
    release = gated.release;
    runtime = await Runtime.start({
      store: gated.store,
      llm: createEchoModel(),
      sessionTtlMs: 60_000,
      onError: () => {},
      ...options,
    });
    const session = await runtime.session(sessionId);
    await session.defineVariable('kind', 'module', 'Predict');
    await session.defineVariable('x', 'integer', 1);
    const qa = await session.module('qa', SPEC);
    await crashOnWrite(session, 'x', gated.faults);
    return { gated, session, qa };
  }

  it('runs the execution even when the module hibernated during that read', async () => {
    const { gated, qa } = await crashedSession('tv1', { hibernateAfterMs: 50 });
    // The session's load waits: the execute has woken the module and waits for the type variable.
    gated.hold();
    const run = qa.execute({ question: 'still there?' });
    run.catch(() => {});
    await waitFor(() => runtime!.whereis(moduleProcessName('tv1', 'qa')) !== undefined, { message: 'module woken' });
    // Longer than the module's idle time: nothing is queued in it yet, so it goes back to sleep.
    await sleep(250);
    gated.release();

    const settled = await run.then(
      (result) => result.moduleType,
      (error: { code?: string }) => error.code,
    );
    // The module is alive and well: the handle's next execute wakes it and runs...
    await expect(qa.execute({ question: 'and now?' })).resolves.toMatchObject({ moduleType: 'Predict' });
    // ...and so must the one that was under way: not fail with `noproc`, as if the module had crashed.
    expect(settled).toBe('Predict');
  });

  it('answers session_not_found, as the module handle does afterwards, when the session was deleted during that read', async () => {
    const { gated, session, qa } = await crashedSession('tv2');
    gated.hold();
    const run = qa.execute({ question: 'still there?' });
    run.catch(() => {});
    await sleep(20);
    await session.delete();
    gated.release();

    const settled = await run.then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    // What the handle says of the module from then on...
    await expect(qa.execute({ question: 'and now?' })).rejects.toMatchObject({ code: 'session_not_found' });
    // ...is what the execution that raced the deletion must say too: not `noproc`, which means the module crashed.
    expect(settled).toBe('session_not_found');
  });
});
