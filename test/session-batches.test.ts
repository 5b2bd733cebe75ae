import { describe, expect, it, vi } from 'vitest';
import { AlreadyExistsError, Runtime, ValidationError, type Session } from '../src/index.js';
import { PATTERN_TEST_BUDGET, compilePattern, type CompiledPattern } from '../src/variables/string-pattern.js';
import { useEmbeddedSession } from './support/embedded-session.js';

describe('session batch writes', () => {
  let runtime: Runtime;
  let session: Session;
  useEmbeddedSession((r, s) => {
    runtime = r;
    session = s;
  });

  // Found by a review: the refusal's confirmation read the store key of each name, and the store's refusal of an
  // invalid key was the answer.
  it('refuses an atomic batch for its locked variable, not for the store key of a name beside it no variable can have', async () => {
    await session.defineVariable('a', 'integer', 1);
    await session.lockVariable('a', 'alice');
    const refused = session.setVariables({ a: 2, 'bad name': 3 }, { atomic: true });
    await expect(refused).rejects.toMatchObject({ code: 'variable_locked', variable: 'a' });
    await expect(refused).rejects.not.toThrow(/store key/);
    expect(await session.getVariable('a')).toBe(1);
  });

  it('refuses an atomic batch for its missing variable, not for the store key of a name beside it no variable can have', async () => {
    const refused = session.setVariables({ ghost: 1, '': 2 }, { atomic: true });
    await expect(refused).rejects.toMatchObject({ code: 'variable_not_found', variable: 'ghost' });
    await expect(refused).rejects.not.toThrow(/store key/);
  });

  it('applies nothing from an atomic batch with one refused value', async () => {
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('constrained', 'integer', 5, { constraints: { max: 10 } });
    const refused = session.setVariables({ a: 100, constrained: 20 }, { atomic: true });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({
      variable: 'constrained',
      message: expect.stringContaining('constrained'),
    });
    expect(await session.getVariables(['a', 'constrained'])).toEqual({ found: { a: 1, constrained: 5 }, missing: [] });
  });

  it('applies the valid values of a non-atomic batch and reports each refusal', async () => {
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('constrained', 'integer', 5, { constraints: { max: 10 } });
    const outcome = await session.setVariables({ a: 100, constrained: 20, ghost: 1 });
    expect(outcome.a).toEqual({ ok: true, version: 2 });
    expect(outcome.constrained).toMatchObject({
      ok: false,
      error: { code: 'validation_failed', message: expect.stringContaining('above maximum') },
    });
    expect(outcome.ghost).toMatchObject({ ok: false, error: { code: 'variable_not_found' } });
    expect(await session.getVariables(['a', 'constrained'])).toEqual({
      found: { a: 100, constrained: 5 },
      missing: [],
    });
  });

  it.each([false, true])('records who wrote a batch and why on each variable it wrote (atomic: %s)', async (atomic) => {
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'integer', 1);
    await session.setVariables({ a: 2, b: 3 }, { atomic, updatedBy: 'bob', reason: 'tuning' });
    for (const name of ['a', 'b'])
      expect(await session.describeVariable(name)).toMatchObject({ version: 2, updatedBy: 'bob', reason: 'tuning' });
  });

  it('holds a whole batch to one budget of pattern checks, so many values cannot add up to a stall', async () => {
    // 40 variables whose pattern each value may use up an eighth of a write's budget: 8 fit in one write.
    const pattern = '^[a-z]{0,1000}$';
    const size = (compilePattern(pattern) as CompiledPattern).size;
    const value = 'a'.repeat(Math.floor(PATTERN_TEST_BUDGET / size / 8));
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    for (const name of names) await session.defineVariable(name, 'string', '', { constraints: { pattern } });
    const values = Object.fromEntries(names.map((name) => [name, value]));

    await expect(session.setVariables(values, { atomic: true })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('exceed its budget'),
    });
    expect(await session.getVariable('p0')).toBe('');
    const outcomes = await session.setVariables(values);
    expect(Object.values(outcomes).filter((outcome) => outcome.ok)).toHaveLength(8);
    expect(outcomes.p8).toMatchObject({ ok: false, error: { message: expect.stringContaining('exceed its budget') } });
    // Each write has a budget of its own: the values refused in that batch go through one by one.
    for (const name of names.slice(8)) await session.setVariable(name, value);
    expect(await session.getVariable('p39')).toBe(value);
  });

  it('carries names, types, values, constraints, descriptions and metadata from an export into another session', async () => {
    await session.defineVariable('temperature', 'float', Number.NaN, {
      constraints: { min: 0, max: 2 },
      description: 't',
      metadata: { owner: 'ml', tags: ['sampling'] },
    });
    await session.defineVariable('style', 'choice', 'terse', { constraints: { choices: ['terse', 'verbose'] } });
    await session.defineVariable('dims', 'tensor', {
      shape: [2, 2],
      data: [
        [1, 2],
        [3, 4],
      ],
    });
    const exported = JSON.parse(JSON.stringify(await session.exportVariables()));
    const other = await runtime.session('s2');
    expect(await other.importVariables(exported)).toBe(3);
    const strip = (records: Awaited<ReturnType<Session['listVariables']>>) =>
      records.map(({ name, type, value, constraints, description, metadata }) => ({
        name,
        type,
        value,
        constraints,
        description,
        metadata,
      }));
    expect(strip(await other.listVariables())).toEqual(strip(await session.listVariables()));
    expect(await other.getVariable('temperature')).toBeNaN();
    expect((await other.describeVariable('temperature')).metadata).toEqual({ owner: 'ml', tags: ['sampling'] });
    await expect(other.importVariables(exported)).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(other.importVariables([{ name: 'z', type: 'integer', value: 1.5 }])).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await other.hasVariable('z')).toBe(false);
    // A key an export never has is refused, naming it and the keys an imported variable may have.
    await expect(other.importVariables([{ name: 'z', type: 'integer', value: 1, id: 'x' }])).rejects.toMatchObject({
      code: 'validation_failed',
      details: { unknown: ['id'], accepted: expect.arrayContaining(['name', 'type', 'value', 'updatedBy']) },
    });
    expect(await other.hasVariable('z')).toBe(false);
  });

  it('refuses an imported record whose constraints, description or metadata is null, as a definition does', async () => {
    for (const field of ['constraints', 'description', 'metadata']) {
      await expect(session.defineVariable('d', 'json', 1, { [field]: null })).rejects.toMatchObject({
        code: 'validation_failed',
        details: { constraint: field },
      });
      const records = [
        { name: 'ok', type: 'integer', value: 1 },
        { name: 'n', type: 'json', value: 1, [field]: null },
      ];
      await expect(session.importVariables(records)).rejects.toMatchObject({
        code: 'validation_failed',
        variable: 'n',
        details: { constraint: field },
      });
    }
    expect(await session.listVariables()).toEqual([]);
  });

  it('refuses an import naming one variable twice, importing none of it', async () => {
    const records = [
      { name: 'a', type: 'integer', value: 1 },
      { name: 'b', type: 'integer', value: 2 },
      { name: 'a', type: 'integer', value: 3 },
    ];
    await expect(session.importVariables(records)).rejects.toMatchObject({
      code: 'validation_failed',
      variable: 'a',
      message: "import names variable 'a' twice",
    });
    expect(await session.listVariables()).toEqual([]);
    await session.defineVariable('a', 'integer', 0);
    await expect(session.importVariables(records, { replace: true })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "import names variable 'a' twice",
    });
    expect(await session.describeVariable('a')).toMatchObject({ value: 0, version: 1 });
    expect(await session.hasVariable('b')).toBe(false);
  });

  it('refuses an import of something other than an array, rather than import nothing from it', async () => {
    for (const records of [{ a: { name: 'a', type: 'integer', value: 1 } }, new Set(), 'ab'])
      await expect(session.importVariables(records as never)).rejects.toMatchObject({
        code: 'validation_failed',
        message: 'importVariables takes an array of exported variables',
      });
    expect(await session.listVariables()).toEqual([]);
  });

  it('refuses an import record whose name is no string, naming its position and kind, importing nothing', async () => {
    const records = [
      { name: 'a', type: 'integer', value: 1 },
      { name: 42, type: 'integer', value: 2 },
    ];
    await expect(session.importVariables(records as never)).rejects.toMatchObject({
      code: 'validation_failed',
      message: "imported variable records[1]: field 'name' must be a string, got number",
      details: { field: 'name', expected: 'a string', got: 'number', index: 1 },
    });
    expect(await session.listVariables()).toEqual([]);
  });

  it('refuses an import over an existing variable without replace, naming it and the session, importing none', async () => {
    await session.defineVariable('b', 'integer', 0);
    const records = [
      { name: 'a', type: 'integer', value: 1 },
      { name: 'b', type: 'integer', value: 2 },
    ];
    const refused = session.importVariables(records);
    await expect(refused).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(refused).rejects.toMatchObject({
      code: 'already_exists',
      message: "variable 'b' already exists",
      details: { kind: 'variable', id: 'b', sessionId: session.sessionId },
    });
    expect(await session.hasVariable('a')).toBe(false);
    expect(await session.describeVariable('b')).toMatchObject({ value: 0, version: 1 });
  });

  it('replaces a variable by import as a write of it: its id and creation time stay, its version counts on', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2024-01-01T00:00:00.000Z'));
      const defined = await session.defineVariable('a', 'integer', 1);
      await session.setVariable('a', 2);
      vi.setSystemTime(new Date('2024-02-01T00:00:00.000Z'));
      await session.importVariables([{ name: 'a', type: 'integer', value: 5 }], { replace: true });
      expect(await session.describeVariable('a')).toMatchObject({
        id: defined.id,
        value: 5,
        version: 3,
        createdAt: '2024-01-01T00:00:00.000Z',
        updatedAt: '2024-02-01T00:00:00.000Z',
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('imports with replace over a locked variable only as its owner, and keeps the lock', async () => {
    await session.defineVariable('a', 'integer', 1);
    await session.lockVariable('a', 'alice');
    const records = [{ name: 'a', type: 'integer', value: 5 }];
    await expect(session.importVariables(records, { replace: true, updatedBy: 'bob' })).rejects.toMatchObject({
      code: 'variable_locked',
    });
    expect(await session.importVariables(records, { replace: true, updatedBy: 'alice' })).toBe(1);
    expect(await session.describeVariable('a')).toMatchObject({ value: 5, version: 2, lockedBy: 'alice' });
    await expect(session.setVariable('a', 6, { updatedBy: 'bob' })).rejects.toMatchObject({ code: 'variable_locked' });
  });
});
