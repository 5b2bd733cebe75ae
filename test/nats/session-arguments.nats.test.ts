import type { Msg } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, ValidationError, VariableLockedError } from '../../src/index.js';
import type { Session } from '../../src/session/session.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A raw request to a variable endpoint of session `raw`, its JSON reply read back. */
const request = async (operation: string, body: object) =>
  (await nc().request(`tether.v1.session.raw.var.${operation}`, JSON.stringify(body), { timeout: 5000 })).json<
    Record<string, any>
  >();
const embedded: Runtime[] = [];
afterEach(async () => {
  await Promise.all(embedded.splice(0).map((runtime) => runtime.stop()));
});

/** What every session handle offers and these tests use; called with arguments its types would not allow. */
type AnySession = Pick<
  Session,
  | 'defineVariable'
  | 'describeVariable'
  | 'getVariable'
  | 'getVariables'
  | 'setVariable'
  | 'updateVariable'
  | 'deleteVariable'
  | 'setVariables'
  | 'lockVariable'
  | 'unlockVariable'
  | 'exportVariables'
  | 'importVariables'
  | 'listVariables'
  | 'watchVariables'
  | 'rollbackVariable'
>;

/** The same session API on an embedded runtime, on a NATS node (its own handle), and from a remote client. */
const setups: [string, (id: string) => Promise<AnySession>][] = [
  [
    'embedded',
    async (id) => {
      const runtime = await Runtime.start({ onError: () => {} });
      embedded.push(runtime);
      return runtime.session(id);
    },
  ],
  ['NATS node', async (id) => (await fx().runtime(fx().buckets())).session(id)],
  [
    'remote client',
    async (id) => {
      await fx().node(fx().buckets());
      return (await fx().client()).session(id);
    },
  ],
];

/** A class whose instances hold the fields a batch or an import takes, but are no plain objects. */
class Values {
  x = 4;
  name = 'z';
  type = 'integer';
  value = 1;
}

/** Untyped access, to pass what a JavaScript caller could. */
const loose = (session: AnySession): any => session;

describe.each(setups)('session arguments (%s)', (_, open) => {
  it('refuses a bad option bag or listener with the embedded ValidationError, changing nothing', async () => {
    const session = await open('bags');
    await session.defineVariable('x', 'integer', 1);
    const heard: unknown[] = [];
    const listener = (change: unknown) => heard.push(change);
    const refusals: [() => Promise<unknown>, string][] = [
      [() => loose(session).setVariable('x', 3, null), 'setVariable options must be an object'],
      [() => loose(session).deleteVariable('x', null), 'deleteVariable options must be an object'],
      [() => loose(session).getVariable('x', { dflt: 1 }), 'getVariable got unknown option dflt; accepted: default'],
      [() => loose(session).watchVariables('*', 'nope'), 'watchVariables needs a listener function'],
      [
        () => loose(session).watchVariables('*', listener, { includeInital: true }),
        'watchVariables got unknown option includeInital; accepted: includeInitial',
      ],
      [
        () => loose(session).watchVariables('*', listener, { includeInitial: 'yes' }),
        "watchVariables option 'includeInitial' must be a boolean, got string",
      ],
      // The same glob check for listing as for watching (a client let the node refuse it, naming its field).
      [() => loose(session).listVariables(5), 'invalid glob pattern: must be a string, got number'],
      [() => loose(session).listVariables(null), 'invalid glob pattern: must be a string, got object'],
      [() => loose(session).watchVariables(5, listener), 'invalid glob pattern: must be a string, got number'],
      // Only plain data travels: what is no plain object would be written here and arrive at a node as nothing.
      [
        () => loose(session).setVariables(new Values()),
        'setVariables takes a plain object of name → value, got a Values',
      ],
      [
        () => loose(session).setVariables(new Map([['x', 4]])),
        'setVariables takes a plain object of name → value, got a Map',
      ],
      [() => loose(session).setVariables([4]), 'setVariables takes a plain object of name → value, got an array'],
      // The list arguments, given a single value: no name or record of it is read, and nothing is written.
      [() => loose(session).getVariables('x'), 'variable names must be given as an array of strings'],
      [
        () => loose(session).importVariables({ name: 'y', type: 'integer', value: 1 }),
        'importVariables takes an array of exported variables',
      ],
      [
        () => loose(session).importVariables([{ name: 'y', type: 'integer', value: 1 }, new Values()]),
        'imported variable records[1] must be a plain object with name, type and value, got a Values',
      ],
      [
        // A hole of a sparse array is no record either (`forEach` would skip it, importing the rest).
        () => loose(session).importVariables([, { name: 'y', type: 'integer', value: 1 }]),
        'imported variable records[0] must be a plain object with name, type and value, got undefined',
      ],
    ];
    for (const [call, message] of refusals) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message });
    }
    await session.setVariable('x', 2);
    expect(await session.describeVariable('x')).toMatchObject({ value: 2, version: 2 });
    expect((await session.listVariables()).map((record) => record.name)).toEqual(['x']);
    expect(heard).toEqual([]);
  });

  it('refuses updateVariable with no function, naming the variable, changing nothing', async () => {
    const session = await open('update');
    await session.defineVariable('x', 'integer', 1);
    const error = await loose(session)
      .updateVariable('x', 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'validation_failed', variable: 'x' });
    expect((error as Error).message).toContain("updateVariable of 'x'");
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
  });

  it('answers an invalid name in a non-atomic batch on its own, and refuses an atomic batch for it', async () => {
    const session = await open('batch');
    await session.defineVariable('x', 'integer', 1);
    const outcomes = await session.setVariables({ x: 5, 'a.b': 1 });
    expect(outcomes.x).toEqual({ ok: true, version: 2 });
    expect(outcomes['a.b']).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const atomic = await session.setVariables({ x: 6, 'a.b': 1 }, { atomic: true }).catch((e: unknown) => e);
    expect(atomic).toBeInstanceOf(ValidationError);
    expect(await session.describeVariable('x')).toMatchObject({ value: 5, version: 2 });
  });

  it('refuses a names list holding a name that is no string, naming its position and type', async () => {
    const session = await open('names');
    await session.defineVariable('f', 'integer', 1);
    const error = await loose(session)
      .getVariables(['f', 1])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'validation_failed', message: 'names[1] must be a string, got number' });
    expect((error as ValidationError).details).toEqual({
      field: 'names',
      index: 1,
      expected: 'a string',
      got: 'number',
    });
  });

  it('refuses a variable name that is no string, naming its kind, changing nothing', async () => {
    const session = await open('kinds');
    await session.defineVariable('x', 'integer', 1);
    const refusals: [() => Promise<unknown>, string][] = [
      [() => loose(session).getVariable(42), 'number'],
      [() => loose(session).getVariable(null, { default: 0 }), 'null'],
      [() => loose(session).describeVariable(['x']), 'array'],
      [() => loose(session).setVariable({ name: 'x' }, 2), 'object'],
      [() => loose(session).defineVariable(7, 'integer', 1), 'number'],
      [() => loose(session).deleteVariable(undefined), 'undefined'],
    ];
    for (const [call, got] of refusals) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message: `variable name must be a string, got ${got}` });
      expect((error as ValidationError).details).toEqual({ constraint: 'name', expected: 'a string', got });
    }
    expect(await session.exportVariables()).toMatchObject([{ name: 'x', value: 1, version: 1 }]);
  });

  it('names who a refused write to a locked variable asked for, null when it named nobody', async () => {
    const session = await open('lock-details');
    await session.defineVariable('a', 'float', 1);
    await session.lockVariable('a', 'A');
    const refusals: [() => Promise<unknown>, string | null][] = [
      [() => session.setVariable('a', 2), null],
      [() => session.setVariable('a', 2, { updatedBy: 'B' }), 'B'],
      [() => session.deleteVariable('a'), null],
      [() => session.setVariables({ a: 2 }, { atomic: true }), null],
      [() => session.unlockVariable('a', 'B'), 'B'],
    ];
    for (const [call, requestedBy] of refusals) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'variable_locked', lockedBy: 'A' });
      expect((error as VariableLockedError).details).toEqual({ variable: 'a', lockedBy: 'A', requestedBy });
    }
    // A non-atomic batch carries the error's JSON form, which says the same.
    const outcomes = await session.setVariables({ a: 2 });
    expect(outcomes.a).toEqual({
      ok: false,
      error: {
        code: 'variable_locked',
        message: "variable 'a' is locked by 'A'",
        details: { variable: 'a', lockedBy: 'A', requestedBy: null },
      },
    });
    expect(await session.describeVariable('a')).toMatchObject({ value: 1, version: 1, lockedBy: 'A' });
  });

  it('refuses an import record with no name or no type, or a damaged export field, naming the record, importing nothing', async () => {
    const session = await open('untyped');
    const refusals: [unknown[], string, object][] = [
      [
        [
          { name: 'a', type: 'float', value: 1 },
          { name: 'b', value: 2 },
        ],
        "imported variable 'b' (records[1]): missing field 'type'",
        { field: 'type', constraint: 'required', index: 1, variable: 'b' },
      ],
      [
        [{ name: 'c', type: 'float' }],
        "imported variable 'c' (records[0]): missing field 'value'",
        { field: 'value', constraint: 'required', index: 0, variable: 'c' },
      ],
      [
        [{ type: 'float', value: 1 }],
        "imported variable records[0]: missing field 'name'",
        { field: 'name', constraint: 'required', index: 0 },
      ],
      // The export's own fields are not carried over, but a wrong one is a damaged file.
      [
        [
          { name: 'd', type: 'float', value: 1, version: 3, createdAt: '2026-01-01T00:00:00.000Z', updatedBy: null },
          { name: 'e', type: 'float', value: 1, version: 'banana' },
        ],
        `imported variable 'e' (records[1]): field 'version' must be a whole number from 1, got "banana"`,
        { field: 'version', expected: 'a whole number from 1', got: 'string', index: 1, variable: 'e' },
      ],
      [
        [{ name: 'f', type: 'float', value: 1, createdAt: 5 }],
        "imported variable 'f' (records[0]): field 'createdAt' must be a string, got 5",
        { field: 'createdAt', expected: 'a string', got: 'number', index: 0, variable: 'f' },
      ],
      [
        [{ name: 'g', type: 'float', value: 1, updatedBy: 42 }],
        "imported variable 'g' (records[0]): field 'updatedBy' must be a string or null, got 42",
        { field: 'updatedBy', expected: 'a string or null', got: 'number', index: 0, variable: 'g' },
      ],
    ];
    for (const [records, message, details] of refusals) {
      const error = await loose(session)
        .importVariables(records)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message });
      expect((error as ValidationError).details).toEqual(details);
    }
    expect(await session.exportVariables()).toEqual([]);
  });

  it("keeps a variable's lock when its owner imports over it, and refuses anyone else", async () => {
    const session = await open('locked');
    await session.defineVariable('a', 'float', 1);
    await session.lockVariable('a', 'A');
    const exported = await session.exportVariables();
    expect(exported[0]).not.toHaveProperty('lockedBy');
    expect(
      await session.importVariables([{ name: 'a', type: 'float', value: 2 }], { replace: true, updatedBy: 'A' }),
    ).toBe(1);
    expect(await session.describeVariable('a')).toMatchObject({ value: 2, version: 2, lockedBy: 'A' });
    await expect(session.setVariable('a', 3, { updatedBy: 'B' })).rejects.toMatchObject({ code: 'variable_locked' });
    await expect(
      session.importVariables([{ name: 'a', type: 'float', value: 4 }], { replace: true, updatedBy: 'B' }),
    ).rejects.toMatchObject({ code: 'variable_locked' });
    expect(await session.describeVariable('a')).toMatchObject({ value: 2, version: 2, lockedBy: 'A' });
  });

  it('gives the default for a missing variable when one is given, even undefined, and refuses the read otherwise', async () => {
    const session = await open('defaults');
    expect(await session.getVariable('missing', { default: 0 })).toBe(0);
    // Given, though undefined: the caller asked for no error.
    expect(await session.getVariable('missing', { default: undefined })).toBeUndefined();
    await expect(session.getVariable('missing')).rejects.toMatchObject({ code: 'variable_not_found' });
    await expect(session.getVariable('missing', {})).rejects.toMatchObject({ code: 'variable_not_found' });
  });

  it('refuses a rollback version that is no whole number from 1 with the embedded error, changing nothing', async () => {
    const session = await open('versions');
    await session.defineVariable('x', 'integer', 1);
    // A bigint too: JSON cannot carry it, and a node would name the request's field rather than the variable.
    for (const version of [0, -1, 1.5, Number.NaN, '1', 1n]) {
      const error = await loose(session)
        .rollbackVariable('x', version)
        .catch((e: unknown) => e);
      expect(error, String(version)).toBeInstanceOf(ValidationError);
      expect(error, String(version)).toMatchObject({ variable: 'x', details: { field: 'version' } });
      expect((error as Error).message).toMatch(/^version of variable 'x' must be a whole number from 1, got /);
    }
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
  });

  // Found by a review: the text 'NaN' of a string variable came back as the float NaN, "the value version 1 had".
  it('refuses a rollback to a version of another type, which an import with replace left in the history', async () => {
    const session = await open('retyped');
    await session.defineVariable('z', 'string', 'NaN');
    await session.importVariables([{ name: 'z', type: 'float', value: 0.5 }], { replace: true });
    await expect(session.rollbackVariable('z', 1)).rejects.toMatchObject({
      code: 'validation_failed',
      message: "variable 'z' cannot roll back to version 1: it was a string then and is a float now",
      details: { variable: 'z', version: 1, type: 'string', currentType: 'float' },
    });
    expect(await session.describeVariable('z')).toMatchObject({ type: 'float', value: 0.5, version: 2 });
  });
});

describe('session arguments over the wire', () => {
  it('sends nothing for arguments the remote client refuses', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('unsent');
    const seen: string[] = [];
    const subscription = nc().subscribe('tether.v1.session.unsent.var.>', {
      callback: (_error, msg: Msg) => seen.push(msg.subject.split('.').pop() ?? ''),
    });
    await nc().flush();
    const s = loose(session);
    const calls = [
      () => s.setVariable('x', 3, null),
      () => s.deleteVariable('x', null),
      () => s.getVariable('x', { dflt: 1 }),
      () => s.setVariables({ x: 1 }, { atomc: true }),
      () => s.rollbackVariable('x', 1, 'me'),
      () => s.importVariables([], { replace: 'yes' }),
      () => s.watchVariables('*', 'nope'),
      () => s.updateVariable('x', 5),
      () => s.getVariable(42),
      () => s.setVariable(null, 1),
    ];
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(ValidationError);
    // A request that goes out after them, and is answered: anything sent before it has been seen by then.
    expect(await session.getVariable('x', { default: 0 })).toBe(0);
    await nc().flush();
    subscription.unsubscribe();
    expect(seen).toEqual(['get']);
  });

  it('refuses a raw getMany name that is no string and a raw import record with no type, naming where', async () => {
    await fx().node(fx().buckets());
    await nc().request('tether.v1.session.raw.open', '', { timeout: 5000 });
    await request('define', { name: 'f', type: 'integer', value: 1 });
    expect((await request('getMany', { names: ['f', 1] })).error).toEqual({
      code: 'validation_failed',
      message: 'names[1] must be a string, got number',
      details: { field: 'names', index: 1, expected: 'a string', got: 'number' },
    });
    expect((await request('import', { records: [{ name: 'g', value: 2 }] })).error).toEqual({
      code: 'validation_failed',
      message: "imported variable 'g' (records[0]): missing field 'type'",
      details: { field: 'type', constraint: 'required', index: 0, variable: 'g' },
    });
    expect((await request('export', {})).result.map((record: { name: string }) => record.name)).toEqual(['f']);
  });

  it('answers a raw non-atomic setMany with an invalid name per name, and refuses it atomic', async () => {
    await fx().node(fx().buckets());
    await nc().request('tether.v1.session.raw.open', '', { timeout: 5000 });
    await request('define', { name: 'x', type: 'integer', value: 1 });
    const each = await request('setMany', { values: { x: 5, 'a.b': 1 } });
    expect(each.result.x).toEqual({ ok: true, version: 2 });
    expect(each.result['a.b']).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const atomic = await request('setMany', { values: { x: 6, 'a.b': 1 }, atomic: true });
    expect(atomic.error).toMatchObject({ code: 'validation_failed' });
    expect((await request('get', { name: 'x' })).result).toMatchObject({ value: 5, version: 2 });
  });
});
