import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import type { Session } from '../../src/session/session.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const embedded: Runtime[] = [];
afterEach(async () => {
  await Promise.all(embedded.splice(0).map((runtime) => runtime.stop()));
});

/** What both session handles offer and these tests use. */
type AnySession = Pick<Session, 'defineVariable' | 'readVariables' | 'getVariables' | 'setVariables'>;

/** The same session API, embedded and over NATS: `__proto__` is a valid variable name in both. */
const sessions: [string, () => Promise<AnySession>][] = [
  [
    'embedded',
    async () => {
      const runtime = await Runtime.start({ onError: () => {} });
      embedded.push(runtime);
      return runtime.session('proto');
    },
  ],
  [
    'over NATS',
    async () => {
      await fx().node(fx().buckets());
      return (await fx().client()).session('proto');
    },
  ],
];

/** An object with an own `__proto__` key (a literal `{ __proto__: v }` would set the prototype instead). */
const withProto = (value: unknown, rest: Record<string, unknown>) =>
  Object.fromEntries([['__proto__', value], ...Object.entries(rest)]);

const own = (object: object, key: string): unknown => Object.getOwnPropertyDescriptor(object, key)?.value;

describe.each(sessions)('a variable named __proto__ (%s)', (_, open) => {
  it('is found by readVariables and getVariables, neither lost nor missing', async () => {
    const session = await open();
    await session.defineVariable('__proto__', 'integer', 1);
    await session.defineVariable('x', 'integer', 2);
    const read = await session.readVariables(['__proto__', 'x', 'nope']);
    expect(Object.keys(read.found).sort()).toEqual(['__proto__', 'x']);
    expect(own(read.found, '__proto__')).toMatchObject({ value: 1, version: 1, id: expect.any(String) });
    expect(read.missing).toEqual(['nope']);
    const values = await session.getVariables(['__proto__']);
    expect(Object.keys(values.found)).toEqual(['__proto__']);
    expect(own(values.found, '__proto__')).toBe(1);
  });

  it('gets its own outcome from setVariables, atomic or not', async () => {
    const session = await open();
    await session.defineVariable('__proto__', 'integer', 1);
    await session.defineVariable('x', 'integer', 2);
    for (const atomic of [false, true]) {
      const outcomes = await session.setVariables(withProto(atomic ? 20 : 10, { x: 3 }), { atomic });
      expect(Object.keys(outcomes).sort()).toEqual(['__proto__', 'x']);
      expect(own(outcomes, '__proto__')).toEqual({ ok: true, version: atomic ? 3 : 2 });
    }
    expect(own((await session.getVariables(['__proto__'])).found, '__proto__')).toBe(20);
  });
});
