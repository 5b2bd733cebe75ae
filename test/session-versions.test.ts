import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, ValidationError, VersionConflictError, type Session } from '../src/index.js';
import { createMemoryStore } from '../src/store/memory-store.js';
import type { Store } from '../src/store/store.js';
import type { VariableRecord } from '../src/variables/types.js';
import { useEmbeddedSession } from './support/embedded-session.js';

describe('session versions and history', () => {
  let session: Session;
  useEmbeddedSession((_, s) => (session = s));

  it('raises the version by one per accepted write and records who wrote', async () => {
    await session.defineVariable('n', 'integer', 1);
    const written = await session.setVariable('n', 2, { updatedBy: 'alice', reason: 'tuning' });
    expect(written).toMatchObject({ value: 2, version: 2, updatedBy: 'alice', reason: 'tuning' });
    expect(await session.getVariable('n')).toBe(2);
  });

  it('refuses a compare-and-set write at a stale version', async () => {
    await session.defineVariable('n', 'integer', 0);
    await session.setVariable('n', 1, { expectedVersion: 1 });
    const stale = session.setVariable('n', 2, { expectedVersion: 1 });
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(stale).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(await session.getVariable('n')).toBe(1);
  });

  it('lists three versions after three writes and rolls back as a new version', async () => {
    await session.defineVariable('temperature', 'float', 0.1);
    await session.setVariable('temperature', 0.2);
    await session.setVariable('temperature', 0.3, { reason: 'warmer' });
    const history = await session.variableHistory('temperature');
    expect(history.map((h) => [h.version, h.value])).toEqual([
      [1, 0.1],
      [2, 0.2],
      [3, 0.3],
    ]);
    expect(history[2]?.reason).toBe('warmer');
    const rolledBack = await session.rollbackVariable('temperature', 1);
    expect(rolledBack).toMatchObject({ value: 0.1, version: 4, reason: 'rollback to version 1' });
    await expect(session.rollbackVariable('temperature', 99)).rejects.toBeInstanceOf(ValidationError);
  });

  it('records who rolled back, as a write records its writer', async () => {
    await session.defineVariable('n', 'integer', 1);
    await session.setVariable('n', 2, { updatedBy: 'alice' });
    const rolledBack = await session.rollbackVariable('n', 1, { updatedBy: 'ops' });
    expect(rolledBack).toMatchObject({ value: 1, version: 3, updatedBy: 'ops' });
    expect(await session.describeVariable('n')).toMatchObject({ updatedBy: 'ops' });
  });

  it('refuses a rollback option it does not take, naming rollbackVariable, rather than let the rollback set it', async () => {
    await session.defineVariable('n', 'integer', 1);
    await session.setVariable('n', 2);
    for (const option of [{ reason: 'undo' }, { expectedVersion: 1 }]) {
      await expect(session.rollbackVariable('n', 1, option as never)).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^rollbackVariable got unknown option/),
        details: { operation: 'rollbackVariable', unknown: Object.keys(option) },
      });
    }
    expect(await session.describeVariable('n')).toMatchObject({ value: 2, version: 2 });
  });

  it('lists only the newest versions with a limit, and refuses a limit that counts nothing', async () => {
    await session.defineVariable('n', 'integer', 1);
    for (const value of [2, 3, 4]) await session.setVariable('n', value);
    expect((await session.variableHistory('n', { limit: 2 })).map((h) => h.value)).toEqual([3, 4]);
    expect((await session.variableHistory('n', { limit: 10 })).map((h) => h.value)).toEqual([1, 2, 3, 4]);
    // A number is shown as itself, anything else by its kind.
    for (const [limit, got] of [
      [0, '0'],
      [1.5, '1.5'],
      ['2', 'string'],
    ] as const) {
      await expect(session.variableHistory('n', { limit: limit as number })).rejects.toMatchObject({
        code: 'validation_failed',
        message: `variableHistory option 'limit' must be a whole number ≥ 1, got ${got}`,
      });
    }
    await expect(session.variableHistory('n', { last: 2 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
      details: { unknown: ['last'] },
    });
  });

  it('refuses a rollback version that is no whole number as such, not as a version missing from the history', async () => {
    await session.defineVariable('temperature', 'float', 0.1);
    for (const [version, shown] of [
      ['1', '"1"'],
      [1.5, '1.5'],
      [0, '0'],
      [null, 'null'],
    ] as const) {
      await expect(session.rollbackVariable('temperature', version as never)).rejects.toMatchObject({
        code: 'validation_failed',
        message: `version of variable 'temperature' must be a whole number from 1, got ${shown}`,
        details: { variable: 'temperature', field: 'version' },
      });
    }
    expect(await session.describeVariable('temperature')).toMatchObject({ value: 0.1, version: 1 });
    // An unknown variable with a bad version is the caller's argument mistake first.
    await expect(session.rollbackVariable('missing', '1' as never)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('keeps history to the current variable after a delete and a new definition', async () => {
    await session.defineVariable('v', 'integer', 1);
    await session.setVariable('v', 2);
    await session.deleteVariable('v');
    expect(await session.hasVariable('v')).toBe(false);
    await session.defineVariable('v', 'string', 'fresh');
    expect((await session.variableHistory('v')).map((h) => h.value)).toEqual(['fresh']);
  });
});

// Found by a review: the rollback's write was a plain `setVariable`, not conditioned on the identity of the variable
// whose history it read.
describe('rollbackVariable racing a delete and a new definition of the variable', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('does not write the old variable’s value into the variable defined again under its name', async () => {
    const memory = createMemoryStore<VariableRecord>();
    let onHistory: (() => Promise<void>) | undefined;
    // The store as it is, but for a hook run once the history has been read (what another writer does meanwhile).
    const store: Store<VariableRecord> = {
      ...memory,
      async history(key) {
        const history = await memory.history(key);
        const hook = onHistory;
        onHistory = undefined;
        await hook?.();
        return history;
      },
    };
    runtime = await Runtime.start({ store });
    const session: Session = await runtime.session('s1');
    const other: Session = await runtime.session('s1');

    await session.defineVariable('budget', 'integer', 100);
    await session.setVariable('budget', 5);
    // Another writer deletes the variable and defines a new one under the name while the rollback reads the history.
    onHistory = async () => {
      await other.deleteVariable('budget');
      await other.defineVariable('budget', 'integer', 0, { constraints: { max: 1000 } });
    };
    const fresh = () => other.describeVariable('budget');

    const rollback = session.rollbackVariable('budget', 1);
    await rollback.catch(() => undefined);
    const after = await fresh();
    // The new variable was never at version 1 = 100: the rollback must not land in it.
    expect({ value: after.value, version: after.version }).toEqual({ value: 0, version: 1 });
    await expect(rollback).rejects.toMatchObject({ code: 'version_conflict', variable: 'budget' });
  });
});
