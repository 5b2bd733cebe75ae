/**
 * A rollback reads the variable's history (a walk of the key's stream on a KV store, which takes a while), then writes
 * the version's value. Its checks (the version's type is the variable's) hold for the record they were made on, so
 * the write is conditioned on that record's version: a write that lands meanwhile makes the rollback read and check
 * again. Conditioned on the id alone, it wrote a string version's text into what an import with `replace` (which
 * keeps the id) had just made a float.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Runtime,
  VersionConflictError,
  createMemoryStore,
  type Session,
  type Store,
  type VariableRecord,
} from '../../src/index.js';
import { MAX_WRITE_ATTEMPTS } from '../../machines/session.writes.js';
import { rollbackVariable, type RollbackSession } from '../../src/session/rollback-variable.js';
import { variableKey } from '../../src/session/write-plan.js';

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

/** The store of a runtime's session `s1`, left by `writes` (the runtime is stopped again). */
async function storeAfter(writes: (session: Session) => Promise<unknown>): Promise<Store<VariableRecord>> {
  const store = createMemoryStore<VariableRecord>();
  const runtime = await Runtime.start({ store });
  await writes(await runtime.session('s1'));
  await runtime.stop();
  return store;
}

/** A rollback's view of session `s1` on `store` whose writes all go through `setVariable`. */
function sessionOn(
  store: Store<VariableRecord>,
  setVariable: RollbackSession['setVariable'],
  describeFresh: RollbackSession['describeFresh'] = async (name) => (await store.get(variableKey('s1', name)))!.value,
): RollbackSession {
  return { sessionId: 's1', store, live: async () => undefined, describeFresh, setVariable };
}

/** The conflict of a write that expected `options.expectedVersion` where another write got in first. */
function lostRace(name: string, options: { readonly expectedVersion?: number }): VersionConflictError {
  return new VersionConflictError(name, options.expectedVersion, (options.expectedVersion ?? 0) + 1);
}

describe('a rollback whose write another write got in before', () => {
  afterEach(() => vi.useRealTimers());

  it('pauses before each new try, and gives up with the last version_conflict after as many tries as a plain write', async () => {
    const store = await storeAfter(async (session) => {
      await session.defineVariable('n', 'integer', 1);
      await session.setVariable('n', 2);
    });
    // The pauses are timeouts; what the store's reads wait for is left as it is.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let tries = 0;
    const outcome = rollbackVariable(
      sessionOn(store, async (name, _value, options) => {
        tries += 1;
        throw lostRace(name, options);
      }),
      'n',
      1,
      {},
    ).catch((error: unknown) => error);
    // The first try goes at once; the second only once its pause is over.
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(tries).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    await vi.runAllTimersAsync();

    expect(await outcome).toMatchObject({ code: 'version_conflict', details: { variable: 'n', expectedVersion: 2 } });
    expect(tries).toBe(MAX_WRITE_ATTEMPTS);
  });

  it('tries again on the record the session holds, and on the versions of a variable defined again meanwhile', async () => {
    // Versions 1 (value 1) and 2 of the variable the rollback reads first; by its second try the session holds one
    // defined again, whose version 1 is 7.
    let redefined: VariableRecord | undefined;
    const store = await storeAfter(async (session) => {
      await session.defineVariable('n', 'integer', 1);
      await session.setVariable('n', 2);
    });
    const written: { value: unknown; expectedId: string | undefined; expectedVersion: number | undefined }[] = [];
    const session = sessionOn(
      store,
      async (name, value, options) => {
        written.push({ value, expectedId: options.expectedId, expectedVersion: options.expectedVersion });
        if (written.length === 1) {
          const runtime = await Runtime.start({ store });
          const other = await runtime.session('s1');
          await other.deleteVariable('n');
          redefined = await other.defineVariable('n', 'integer', 7);
          await runtime.stop();
          throw lostRace(name, options);
        }
        return { ...redefined!, value, version: redefined!.version + 1 };
      },
      async () => redefined!,
    );

    expect(await rollbackVariable(session, 'n', 1, {})).toMatchObject({ value: 7, version: 2 });
    expect(written).toEqual([
      { value: 1, expectedId: expect.any(String), expectedVersion: 2 },
      { value: 7, expectedId: redefined!.id, expectedVersion: 1 },
    ]);
    expect(written[0]!.expectedId).not.toBe(redefined!.id);
  });
});
