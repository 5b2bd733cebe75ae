/**
 * A rollback reads the variable's history (a walk of the key's stream on a KV store, which takes a while), then writes
 * the version's value. Its checks (the version's type is the variable's) hold for the record they were made on, so
 * the write is conditioned on that record's version: a write that lands meanwhile makes the rollback read and check
 * again. Conditioned on the id alone, it wrote a string version's text into what an import with `replace` (which
 * keeps the id) had just made a float.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createMemoryStore, type Session, type Store, type VariableRecord } from '../../src/index.js';

/** A memory store whose history reads can be held: `hold()` resolves once the next read is held, `release()` ends it. */
function storeWithHeldHistory() {
  const base = createMemoryStore<VariableRecord>();
  let held: { reached: () => void; released: Promise<void> } | undefined;
  let release = (): void => {};
  const store: Store<VariableRecord> = {
    ...base,
    history: async (key) => {
      const changes = await base.history(key);
      const hold = held;
      held = undefined;
      if (hold) {
        hold.reached();
        await hold.released;
      }
      return changes;
    },
  };
  const hold = (): Promise<void> =>
    new Promise<void>((reached) => {
      const released = new Promise<void>((resolve) => (release = resolve));
      held = { reached, released };
    });
  return { store, hold, release: () => release() };
}

/** A memory store that runs `duringRead` inside each history read, before the read answers. */
function storeWritingDuringReads(duringRead: () => Promise<unknown>): Store<VariableRecord> {
  const base = createMemoryStore<VariableRecord>();
  return {
    ...base,
    history: async (key) => {
      const changes = await base.history(key);
      await duringRead();
      return changes;
    },
  };
}

describe('a rollback and a write landing while it reads the history', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  async function started(store: Store<VariableRecord>): Promise<Session> {
    runtime = await Runtime.start({ store });
    return runtime.session('s1');
  }

  it('refuses a string version for a variable an import made a float meanwhile, and leaves it alone', async () => {
    const { store, hold, release } = storeWithHeldHistory();
    const session = await started(store);
    await session.defineVariable('v', 'string', 'NaN');
    await session.setVariable('v', 'text');
    const reading = hold();
    const rollback = session.rollbackVariable('v', 1).catch((error: unknown) => error);
    await reading;
    await session.importVariables([{ name: 'v', type: 'float', value: 1.5 }], { replace: true });
    release();

    expect(await rollback).toMatchObject({ code: 'validation_failed', details: { variable: 'v' } });
    expect(await session.describeVariable('v')).toMatchObject({ type: 'float', value: 1.5, version: 3 });
  });

  it('gives up with version_conflict when a write gets in before each of its tries, writing nothing', async () => {
    let writing = false;
    let next = 10;
    let session!: Session;
    session = await started(
      storeWritingDuringReads(() => (writing ? session.setVariable('n', next++) : Promise.resolve())),
    );
    await session.defineVariable('n', 'integer', 1);
    await session.setVariable('n', 2);
    writing = true;
    const outcome = await session.rollbackVariable('n', 1).catch((error: unknown) => error);
    writing = false;

    expect(outcome).toMatchObject({ code: 'version_conflict', details: { variable: 'n' } });
    // Each try lost to one write: five of them, and no rollback among the versions.
    const values = (await session.variableHistory('n')).map((entry) => entry.value);
    expect(values).toEqual([1, 2, 10, 11, 12, 13, 14]);
  });

  it('still rolls back over a plain write that got in first, as a new version after it', async () => {
    const { store, hold, release } = storeWithHeldHistory();
    const session = await started(store);
    await session.defineVariable('n', 'integer', 1);
    await session.setVariable('n', 2);
    const reading = hold();
    const rollback = session.rollbackVariable('n', 1);
    await reading;
    await session.setVariable('n', 3);
    release();

    expect(await rollback).toMatchObject({ value: 1, version: 4 });
    expect((await session.variableHistory('n')).map((entry) => entry.value)).toEqual([1, 2, 3, 1]);
  });
});
