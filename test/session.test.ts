import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  Runtime,
  Session,
  ValidationError,
  VariableLockedError,
  VariableNotFoundError,
  VariableAwarePredict,
  createEchoModel,
} from '../src/index.js';
import { useEmbeddedSession } from './support/embedded-session.js';

describe('session', () => {
  let runtime: Runtime;
  let session: Session;
  useEmbeddedSession((r, s) => {
    runtime = r;
    session = s;
  });

  it('describes a defined float with type, value, constraints, description and version 1', async () => {
    await session.defineVariable('temperature', 'float', 0.7, {
      constraints: { min: 0, max: 2 },
      description: 'sampling temperature',
    });
    const record = await session.describeVariable('temperature');
    expect(record).toMatchObject({
      name: 'temperature',
      type: 'float',
      value: 0.7,
      constraints: { min: 0, max: 2 },
      description: 'sampling temperature',
      version: 1,
      lockedBy: null,
    });
    expect(Date.parse(record.createdAt)).not.toBeNaN();
    expect(record.updatedAt).toBe(record.createdAt);
  });

  it('refuses 1.5 on a max-1 float and keeps value and version', async () => {
    await session.defineVariable('ratio', 'float', 0.5, { constraints: { min: 0, max: 1 } });
    const refused = session.setVariable('ratio', 1.5);
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('above maximum'),
    });
    expect(await session.describeVariable('ratio')).toMatchObject({ value: 0.5, version: 1 });
  });

  it('reports found and missing names from getVariables', async () => {
    for (const name of ['a', 'b', 'c']) await session.defineVariable(name, 'string', name.toUpperCase());
    const { found, missing } = await session.getVariables(['a', 'b', 'nonexistent', 'c']);
    expect(found).toEqual({ a: 'A', b: 'B', c: 'C' });
    expect(missing).toEqual(['nonexistent']);
  });

  it('returns the default for a missing variable and VariableNotFoundError without one', async () => {
    expect(await session.getVariable('absent', { default: 42 })).toBe(42);
    await expect(session.getVariable('absent')).rejects.toBeInstanceOf(VariableNotFoundError);
    await expect(session.setVariable('absent', 1)).rejects.toMatchObject({
      code: 'variable_not_found',
      message: expect.stringContaining("'absent'"),
    });
    await expect(session.getVariable('bad name')).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a write to a name no variable can have as invalid, not as a missing variable', async () => {
    await session.defineVariable('a', 'integer', 1);
    const invalid = { code: 'validation_failed', message: expect.stringContaining("invalid variable name 'a.b'") };
    await expect(session.setVariable('a.b', 1)).rejects.toMatchObject(invalid);
    await expect(session.deleteVariable('a.b')).rejects.toMatchObject(invalid);
    await expect(session.lockVariable('a.b', 'me')).rejects.toMatchObject(invalid);
    expect((await session.setVariables({ 'a.b': 1, a: 2 }))['a.b']).toMatchObject({ ok: false, error: invalid });
    // A valid name that is not defined is still not found.
    await expect(session.setVariable('ghost', 1)).rejects.toBeInstanceOf(VariableNotFoundError);
  });

  it('lists by anchored glob and matches regex characters literally', async () => {
    for (const name of ['temp_cpu', 'temp_gpu', 'xtemp_a', 'temperature'])
      await session.defineVariable(name, 'float', 1);
    expect((await session.listVariables('temp_*')).map((r) => r.name)).toEqual(['temp_cpu', 'temp_gpu']);
    expect((await session.listVariables()).map((r) => r.name)).toEqual([
      'temp_cpu',
      'temp_gpu',
      'temperature',
      'xtemp_a',
    ]);
    await expect(session.listVariables('a+b')).resolves.toEqual([]);
    await expect(session.listVariables('(')).resolves.toEqual([]);
    await expect(session.listVariables('temp.*')).resolves.toEqual([]);
  });

  it('refuses a second definition of a name and keeps the original', async () => {
    await session.defineVariable('model', 'string', 'gpt-4o');
    const again = session.defineVariable('model', 'integer', 3);
    await expect(again).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(again).rejects.toMatchObject({ code: 'already_exists' });
    expect(await session.describeVariable('model')).toMatchObject({ type: 'string', value: 'gpt-4o', version: 1 });
  });

  it('refuses definitions with an unknown type, constraint key, option key or invalid pattern', async () => {
    // Each fails to compile too; refused at runtime for a JavaScript caller.
    // @ts-expect-error: an unknown type
    await expect(session.defineVariable('x', 'decimal', 1)).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error: an unknown constraint key
    await expect(session.defineVariable('x', 'float', 1, { constraints: { maximum: 2 } })).rejects.toMatchObject({
      message: expect.stringContaining('maximum'),
    });
    // @ts-expect-error: an unknown option key
    await expect(session.defineVariable('x', 'float', 1, { constraint: { max: 2 } })).rejects.toMatchObject({
      message: expect.stringContaining('constraint'),
    });
    await expect(
      session.defineVariable('x', 'string', 'a', { constraints: { pattern: '([a-z' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(session.defineVariable('bad.name', 'float', 1)).rejects.toBeInstanceOf(ValidationError);
    expect(await session.hasVariable('x')).toBe(false);
  });

  it('refuses a pattern that needs backtracking at definition, naming variable and pattern, and stores nothing', async () => {
    const refused = session.defineVariable('password', 'string', 'abcdefg1', {
      constraints: { pattern: '^(?=.*\\d).{8,}$' },
    });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({
      variable: 'password',
      message:
        'password: constraint pattern /^(?=.*\\d).{8,}$/ is not supported by the linear-time matcher: lookahead (?=',
    });
    expect(await session.hasVariable('password')).toBe(false);
  });

  it('refuses a value that would backtrack catastrophically and keeps the stored one', async () => {
    await session.defineVariable('as', 'string', 'aaa', { constraints: { pattern: '^(a+)+$' } });
    const refused = session.setVariable('as', `${'a'.repeat(40)}!`);
    await expect(refused).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'as: must match pattern: ^(a+)+$',
    });
    expect(await session.describeVariable('as')).toMatchObject({ value: 'aaa', version: 1 });
  });

  it('refuses unknown option keys on writes', async () => {
    await session.defineVariable('n', 'integer', 0);
    await expect(session.setVariable('n', 1, { expectedVerison: 1 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('expectedVerison'),
      // Named as every other refusal of unknown keys names them, embedded and over the wire.
      details: { unknown: ['expectedVerison'], accepted: expect.arrayContaining(['expectedVersion', 'updatedBy']) },
    });
    expect(await session.describeVariable('n')).toMatchObject({ value: 0, version: 1 });
  });

  it('refuses null define options, as every other operation and the wire do, defining nothing', async () => {
    await expect(session.defineVariable('n', 'integer', 0, null as never)).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'n: options must be an object, got null',
    });
    expect(await session.hasVariable('n')).toBe(false);
  });

  it('refuses option values of the wrong type, writing nothing', async () => {
    await session.defineVariable('n', 'integer', 0);
    const refused: [string, Promise<unknown>][] = [
      ['updatedBy', session.setVariable('n', 1, { updatedBy: { evil: true } } as never)],
      ['reason', session.setVariable('n', 1, { reason: 42 } as never)],
      ['expectedVersion', session.setVariable('n', 1, { expectedVersion: -1 })],
      ['expectedVersion', session.setVariable('n', 1, { expectedVersion: 1.5 })],
      ['expectedVersion', session.setVariable('n', 1, { expectedVersion: '1' } as never)],
      ['atomic', session.setVariables({ n: 1 }, { atomic: 'yes' } as never)],
      ['updatedBy', session.updateVariable('n', () => 1, { updatedBy: 5 } as never)],
      ['updatedBy', session.deleteVariable('n', { updatedBy: null } as never)],
      // An empty writer names nobody, yet would be recorded as one (see options.ts), on every write that takes one.
      ['updatedBy', session.setVariable('n', 1, { updatedBy: '' })],
      ['updatedBy', session.setVariables({ n: 1 }, { updatedBy: '' })],
      ['updatedBy', session.deleteVariable('n', { updatedBy: '' })],
      ['updatedBy', session.rollbackVariable('n', 1, { updatedBy: '' })],
      ['updatedBy', session.importVariables([], { updatedBy: '' })],
      // No variable has the empty id: it was refused as a version_conflict naming an empty id.
      ['expectedId', session.setVariable('n', 1, { expectedId: '' })],
      ['replace', session.importVariables([], { replace: 1 } as never)],
      ['includeInitial', session.watchVariables('*', () => {}, { includeInitial: 'yes' } as never)],
    ];
    for (const [option, attempt] of refused)
      await expect(attempt).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining(`option '${option}' must be`),
      });
    expect(await session.describeVariable('n')).toMatchObject({ value: 0, version: 1, updatedBy: null });
    await expect(session.setVariable('n', 1, { updatedBy: '' })).rejects.toThrow(
      "setVariable option 'updatedBy' must be a non-empty string, got an empty string",
    );
  });

  it('refuses a name no variable can have on reads, a default notwithstanding', async () => {
    await expect(session.getVariable('bad.name', { default: 5 })).rejects.toBeInstanceOf(ValidationError);
    await expect(session.hasVariable('a b')).rejects.toBeInstanceOf(ValidationError);
    await expect(session.getVariables(['a.b'])).rejects.toBeInstanceOf(ValidationError);
    await expect(session.getVariable('missing', { defualt: 3 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('defualt'),
    });
    expect(await session.getVariable('missing', { default: 5 })).toBe(5);
    expect(await session.hasVariable('missing')).toBe(false);
    expect(await session.getVariables(['missing'])).toEqual({ found: {}, missing: ['missing'] });
  });

  it('refuses writes from anyone but the lock owner, batches included', async () => {
    await session.defineVariable('model', 'string', 'a');
    await session.defineVariable('other', 'string', 'x');
    await session.lockVariable('model', 'alice');
    await expect(session.setVariable('model', 'b', { updatedBy: 'bob' })).rejects.toBeInstanceOf(VariableLockedError);
    await expect(session.setVariable('model', 'b')).rejects.toMatchObject({
      code: 'variable_locked',
      lockedBy: 'alice',
    });
    await expect(
      session.setVariables({ other: 'y', model: 'b' }, { atomic: true, updatedBy: 'bob' }),
    ).rejects.toBeInstanceOf(VariableLockedError);
    const each = await session.setVariables({ other: 'y', model: 'b' }, { updatedBy: 'bob' });
    expect(each.model).toMatchObject({ ok: false, error: { code: 'variable_locked' } });
    await expect(session.deleteVariable('model', { updatedBy: 'bob' })).rejects.toBeInstanceOf(VariableLockedError);
    await expect(session.unlockVariable('model', 'bob')).rejects.toBeInstanceOf(VariableLockedError);
    await expect(session.lockVariable('model', 'bob')).rejects.toMatchObject({
      code: 'variable_locked',
      lockedBy: 'alice',
    });
    await expect(session.lockVariable('model', '')).rejects.toBeInstanceOf(ValidationError);
    // An owner is stored with the record; one too long to be a name is refused and the lock stays as it was.
    await expect(session.lockVariable('model', 'o'.repeat(257))).rejects.toMatchObject({
      code: 'validation_failed',
      variable: 'model',
      message: expect.stringContaining('at most 256 characters, got 257 characters'),
    });
    await expect(session.unlockVariable('model', 'o'.repeat(257))).rejects.toBeInstanceOf(ValidationError);
    expect((await session.describeVariable('model')).lockedBy).toBe('alice');
    expect(await session.setVariable('model', 'c', { updatedBy: 'alice' })).toMatchObject({
      value: 'c',
      lockedBy: 'alice',
    });
    await session.unlockVariable('model', 'alice');
    expect(await session.setVariable('model', 'd', { updatedBy: 'bob' })).toMatchObject({ value: 'd', lockedBy: null });
  });

  it('reads several variables at once while its process lives, and not once it has stopped', async () => {
    await session.defineVariable('a', 'integer', 1);
    await session.setVariable('a', 2);
    const { id } = await session.describeVariable('a');
    expect(session.readVariablesNow(['a', 'nope'])).toEqual({
      found: { a: { value: 2, version: 2, id, type: 'integer' } },
      missing: ['nope'],
    });
    await expect(session.readVariables(['a'])).resolves.toEqual({
      found: { a: { value: 2, version: 2, id, type: 'integer' } },
      missing: [],
    });
    expect(() => session.readVariablesNow('a' as never)).toThrow(ValidationError);
    await expect(session.readVariables('a' as never)).rejects.toBeInstanceOf(ValidationError);
    // A name that cannot be a variable's is refused, as `getVariables` and a remote handle refuse it.
    await expect(session.readVariables(['a', '1bad'])).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining("'1bad'"),
    });
    await session.stop();
    expect(session.readVariablesNow(['a'])).toBeUndefined();
    await expect(session.readVariables(['a'])).rejects.toMatchObject({ code: 'session_stopped' });
  });

  it('moves its variables stamp with each change and never shares one with another session', async () => {
    await session.defineVariable('temperature', 'float', 0.7);
    const other = await runtime.session('s2');
    const first = session.variablesStamp();
    await session.getVariable('temperature');
    expect(session.variablesStamp()).toBe(first);
    expect(other.variablesStamp()).not.toBe(first);

    // A module that syncs from inside a watcher (the change is being announced) reads the announced value.
    const module = new VariableAwarePredict('question -> answer', { session, llm: createEchoModel() });
    await module.bindToVariable('temperature', 'temperature');
    await module.syncVariables();
    const seen: unknown[] = [];
    await session.watchVariables('temperature', () => {
      seen.push(module.syncVariables());
    });
    await session.setVariable('temperature', 0.9);
    await expect(Promise.all(seen)).resolves.toEqual([{ temperature: [0.7, 0.9] }]);
    expect(session.variablesStamp()).not.toBe(first);

    await session.stop();
    expect(session.variablesStamp()).toBeUndefined();
  });

  it('keeps sessions isolated from each other', async () => {
    const other = await runtime.session('s2');
    await session.defineVariable('shared_name', 'integer', 1);
    await other.defineVariable('shared_name', 'integer', 2);
    await session.setVariable('shared_name', 10);
    expect(await other.getVariable('shared_name')).toBe(2);
    expect((await other.listVariables()).map((r) => r.value)).toEqual([2]);
  });

  it('hands out frozen values so stored state cannot be changed from outside', async () => {
    await session.defineVariable('config', 'json', { retries: 3 });
    const value = (await session.getVariable('config')) as { retries: number };
    expect(() => {
      value.retries = 9;
    }).toThrow(TypeError);
    expect(await session.getVariable('config')).toEqual({ retries: 3 });
  });
});
