import { describe, expect, it } from 'vitest';
import { ValidationError, VersionConflictError, type Session } from '../src/index.js';
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
