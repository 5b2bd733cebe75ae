import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, ValidationError, subscribeEvents } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const embedded: Runtime[] = [];
afterEach(async () => {
  await Promise.all(embedded.splice(0).map((runtime) => runtime.stop()));
});

/** What opens a session by id and these tests use; called with arguments its types would not allow. */
interface Opener {
  session(id: string): Promise<{
    defineVariable(name: string, type: 'float', value: number): Promise<unknown>;
    lockVariable(name: string, owner: string): Promise<unknown>;
    unlockVariable(name: string, owner: string): Promise<unknown>;
    module(id: string, spec?: object): Promise<unknown>;
  }>;
}

/** Sessions opened by id on an embedded runtime, on a NATS node (its own handle), and from a remote client. */
const setups: [string, () => Promise<Opener>][] = [
  [
    'embedded',
    async () => {
      const runtime = await Runtime.start({ onError: () => {} });
      embedded.push(runtime);
      return runtime;
    },
  ],
  ['NATS node', async () => fx().runtime(fx().buckets())],
  [
    'remote client',
    async () => {
      await fx().node(fx().buckets());
      return fx().client();
    },
  ],
];

/** Untyped access, to pass what a JavaScript caller could. */
const loose = (value: unknown): any => value;

/** The refusal `call` rejects with. */
const refusal = async (call: () => Promise<unknown>): Promise<ValidationError> => {
  const error = await call().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
};

const KINDS: [unknown, string][] = [
  [42, 'number'],
  [null, 'null'],
  [['a'], 'array'],
  [{ id: 'a' }, 'object'],
  [undefined, 'undefined'],
];

describe.each(setups)('id arguments (%s)', (_, start) => {
  it('refuses a session id that is no string naming its kind, as a variable name is refused', async () => {
    const opener = await start();
    for (const [id, got] of KINDS) {
      const error = await refusal(() => loose(opener).session(id));
      expect(error).toMatchObject({ code: 'validation_failed', message: `session id must be a string, got ${got}` });
      expect(error.details).toEqual({ constraint: 'sessionId', expected: 'a string', got });
    }
  });

  it('refuses a module id that is no string naming its kind, with or without a spec', async () => {
    const session = await (await start()).session('mods');
    const spec = { type: 'Predict', signature: 'question -> answer' };
    for (const [id, got] of KINDS) {
      for (const call of [() => loose(session).module(id), () => loose(session).module(id, spec)]) {
        const error = await refusal(call);
        expect(error).toMatchObject({ code: 'validation_failed', message: `module id must be a string, got ${got}` });
        expect(error.details).toEqual({ constraint: 'moduleId', expected: 'a string', got });
      }
    }
  });

  // Found by a review: a bad module id's details held the id alone, where a bad session id's name the constraint.
  it('refuses a module id outside the id rule naming the constraint, as a session id is refused', async () => {
    const session = await (await start()).session('mods');
    for (const id of ['a.b', 'é', 'x'.repeat(129)]) {
      const error = await refusal(() => session.module(id, { type: 'Predict', signature: 'question -> answer' }));
      expect(error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^invalid module id /) });
      expect(error.details).toEqual({ constraint: 'moduleId', moduleId: id });
    }
  });

  it('refuses a lock owner that is no string naming the variable and its kind, locking nothing', async () => {
    const session = await (await start()).session('locks');
    await session.defineVariable('t', 'float', 0.5);
    for (const [owner, got] of KINDS) {
      for (const call of [
        () => loose(session).lockVariable('t', owner),
        () => loose(session).unlockVariable('t', owner),
      ]) {
        const error = await refusal(call);
        expect(error).toMatchObject({
          code: 'validation_failed',
          message: `lock owner for 't' must be a string, got ${got}`,
          variable: 't',
        });
        expect(error.details).toEqual({ constraint: 'lockOwner', expected: 'a string', got, variable: 't' });
      }
    }
    // Nothing was locked: anyone may still write.
    await expect(loose(session).setVariable('t', 0.7, { updatedBy: 'bob' })).resolves.toMatchObject({ version: 2 });
  });
});

describe('subscribeEvents', () => {
  it('refuses a sessionId option that is no string naming its kind, before connecting', async () => {
    const error = await refusal(() => subscribeEvents({ servers: fx().server.url, sessionId: loose(7) }, () => {}));
    expect(error).toMatchObject({ message: 'session id must be a string, got number' });
  });
});
