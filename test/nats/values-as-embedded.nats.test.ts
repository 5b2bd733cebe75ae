import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import type { Session } from '../../src/session/session.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

let embedded: Runtime;
beforeAll(async () => {
  embedded = await Runtime.start({ onError: () => {} });
});
afterAll(async () => {
  await embedded?.stop();
});

describe('what a NATS node hands out', () => {
  it('is deep-frozen, so changing it changes neither the variable nor its constraints, here or in the bucket', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets);
    const b = await fx().runtime(buckets);
    const writer = await b.session('frozen');
    await writer.defineVariable('t', 'float', 0.5, { constraints: { min: 0, max: 1 } });
    await writer.defineVariable('c', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
    await writer.defineVariable('cfg', 'json', { a: [1] }, { metadata: { tags: ['x'] } });
    await writer.defineVariable('emb', 'embedding', [1, 2]);
    // Node a knows these records only from the bucket.
    const reader = await a.session('frozen');
    const seen: VariableChange[] = [];
    await reader.watchVariables('cfg', (change) => seen.push(change));
    await writer.setVariable('cfg', { a: [1, 2] });
    await waitFor(() => seen.length === 1);

    const t = await reader.describeVariable('t');
    expect(() => ((t.constraints as { max: number }).max = 1000)).toThrow(TypeError);
    const c = await reader.describeVariable('c');
    expect(() => (c.constraints as { choices: string[] }).choices.push('evil')).toThrow(TypeError);
    const cfg = await reader.describeVariable('cfg');
    expect(() => (cfg.value as { a: number[] }).a.push(99)).toThrow(TypeError);
    expect(() => (cfg.metadata as { tags: string[] }).tags.push('y')).toThrow(TypeError);
    expect(() => ((seen[0]!.newValue as { a: number[] }).a[0] = 5)).toThrow(TypeError);
    const emb = (await reader.getVariable('emb')) as number[];
    expect(() => (emb[0] = 42)).toThrow(TypeError);

    await expect(reader.setVariable('t', 500)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(reader.setVariable('c', 'evil')).rejects.toMatchObject({ code: 'validation_failed' });
    await reader.setVariable('t', 0.6);
    const fresh = await (await fx().runtime(buckets)).session('frozen');
    expect(await fresh.describeVariable('t')).toMatchObject({ value: 0.6, constraints: { min: 0, max: 1 } });
    expect(await fresh.getVariable('cfg')).toEqual({ a: [1, 2] });
    expect(await fresh.getVariable('emb')).toEqual([1, 2]);
  });
});

/**
 * Whether every object inside what a read gave out is frozen. The outer arrays and records here are the test's own
 * (embedded reads hand out fresh ones too), so only their contents are judged.
 */
function deepFrozen(values: unknown): boolean {
  const frozen = (item: unknown): boolean =>
    typeof item !== 'object' || item === null || (Object.isFrozen(item) && Object.values(item).every(frozen));
  return Array.isArray(values) ? values.every(frozen) : frozen(values);
}

/** What a call did, comparable across runtimes: the value it resolved to, or the error's code and message. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { code, message };
  }
}

/** A value inside `levels` arrays. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

/** An outcome without what differs by runtime (ids, times), non-finite numbers spelt out so that they compare. */
function comparable(result: unknown): unknown {
  const text = JSON.stringify(result, (key, value: unknown) => {
    if (key === 'id' || key.endsWith('At')) return undefined;
    return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  });
  return JSON.parse(text);
}

/** A function that throws `message`, for getters and proxy traps. */
const fail = (message: string | undefined) => (): never => {
  // A getter may throw anything; `undefined` once passed for the reporter's own refusal.
  throw message === undefined ? undefined : new Error(message);
};

/** `{ a }`, whose `a` throws when read. */
const throwingGetter = (): object => Object.defineProperty({}, 'a', { get: fail('boom'), enumerable: true });

/** A proxy whose every use throws. */
function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** What the cases use, which embedded sessions and remote ones both have. */
type Handle = Pick<Session, 'defineVariable' | 'setVariable' | 'setVariables' | 'importVariables' | 'getVariable'>;

/** Each case runs on a fresh session and resolves to what it observed. */
const CASES: Record<string, (session: Handle) => Promise<unknown>> = {
  'json with an undefined member': (s) => s.defineVariable('x', 'json', { a: undefined, b: 1 }),
  'json with a Date': (s) => s.defineVariable('x', 'json', { d: new Date(0) }),
  'json with a function': (s) => s.defineVariable('x', 'json', { f: () => 1 }),
  'json Map': (s) => s.defineVariable('x', 'json', new Map([[1, 2]])),
  'json with toJSON': (s) => s.defineVariable('x', 'json', { toJSON: () => 'sneaky' }),
  'json bigint': (s) => s.defineVariable('x', 'json', { n: 10n }),
  'json cyclic': (s) => s.defineVariable('x', 'json', cyclic),
  'json Float32Array': (s) => s.defineVariable('x', 'json', new Float32Array([1])),
  'list with NaN': (s) => s.defineVariable('x', 'list', [1, Number.NaN]),
  // eslint-disable-next-line no-sparse-arrays
  'sparse list': (s) => s.defineVariable('x', 'list', [1, , 3]),
  'metadata NaN': (s) => s.defineVariable('x', 'float', 1, { metadata: { d: Number.NaN } }),
  'constraint Infinity': (s) => s.defineVariable('x', 'float', 1, { constraints: { max: Infinity } }),
  'embedding Float32Array': async (s) => (await s.defineVariable('x', 'embedding', new Float32Array([0.5, 2]))).value,
  'embedding Float64Array with NaN': (s) => s.defineVariable('x', 'embedding', new Float64Array([1, Number.NaN])),
  'tensor of typed data': async (s) =>
    (await s.defineVariable('x', 'tensor', { shape: [2], data: new Float32Array([1, 2]) })).value,
  'float set to a Date': async (s) => {
    await s.defineVariable('x', 'float', 1);
    return s.setVariable('x', new Date(0));
  },
  'string set to NaN': async (s) => {
    await s.defineVariable('x', 'string', 'a');
    return s.setVariable('x', Number.NaN);
  },
  'float set to NaN': async (s) => {
    await s.defineVariable('x', 'float', 1);
    return (await s.setVariable('x', Number.NaN)).value;
  },
  'setVariables with NaN inside json': async (s) => {
    await s.defineVariable('x', 'json', 1);
    await s.defineVariable('y', 'float', 1);
    return s.setVariables({ x: [Number.NaN], y: -Infinity });
  },
  'import of a float NaN': async (s) => {
    await s.importVariables([{ name: 'x', type: 'float', value: Number.NaN }]);
    return s.getVariable('x');
  },
  'import of a json NaN': (s) => s.importVariables([{ name: 'x', type: 'json', value: { n: Number.NaN } }]),
  // Cut off by the client inside more than 257 containers: in a record, the value's 256th level.
  // Parts whose reading throws (a getter, a proxy's trap): the client cannot read them to send them.
  'json with a throwing getter': (s) => s.defineVariable('x', 'json', throwingGetter()),
  'json with a getter throwing undefined': (s) =>
    s.defineVariable('x', 'json', Object.defineProperty({}, 'a', { get: fail(undefined), enumerable: true })),
  'list with a throwing index getter': async (s) => {
    await s.defineVariable('x', 'list', []);
    const list = [1, 2];
    Object.defineProperty(list, 1, { get: fail('no item'), enumerable: true });
    return s.setVariable('x', list);
  },
  'json holding a revoked proxy': (s) => s.defineVariable('x', 'json', { x: [1, revokedProxy()] }),
  'embedding proxy whose reads throw': (s) =>
    s.defineVariable('x', 'embedding', new Proxy([1, 2], { get: fail('no read') })),
  'integer set to a proxy whose prototype cannot be read': async (s) => {
    await s.defineVariable('x', 'integer', 1);
    return s.setVariable('x', new Proxy({}, { getPrototypeOf: fail('no prototype') }));
  },
  'non-atomic setVariables with a throwing getter': async (s) => {
    await s.defineVariable('x', 'json', 1);
    await s.defineVariable('y', 'integer', 1);
    return s.setVariables({ y: 2, x: throwingGetter() });
  },
  'import of json with a throwing getter': (s) =>
    s.importVariables([{ name: 'x', type: 'json', value: throwingGetter() }]),
  'import of json nested 257 deep': (s) =>
    s.importVariables([{ name: 'x', type: 'json', value: nested(257), description: undefined }]),
  'import of metadata nested 257 deep': (s) =>
    s.importVariables([{ name: 'x', type: 'json', value: 1, metadata: { m: nested(256) }, description: undefined }]),
};

describe('a remote client', () => {
  it('gets for every value the outcome the embedded runtime gives: the same value, or the same refusal', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    let n = 0;
    for (const [label, run] of Object.entries(CASES)) {
      n += 1;
      const expected = await outcome(async () => run(await embedded.session(`case-${n}`)));
      const remote = await outcome(async () => run(await client.session(`case-${n}`)));
      expect({ label, outcome: comparable(remote) }).toEqual({ label, outcome: comparable(expected) });
    }
  });

  it('refuses a value whose reading throws, naming where, and writes the rest of a non-atomic batch', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('unreadable');
    await session.defineVariable('cfg', 'json', {});
    await session.defineVariable('n', 'integer', 0);
    await expect(session.setVariable('cfg', { ok: 1, nested: throwingGetter() })).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'cfg: must be a JSON value; $.nested.a is unreadable (boom)',
    });
    await expect(session.setVariable('n', new Proxy({}, { getPrototypeOf: fail('trap') }))).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'n: could not be read: trap',
      details: { constraint: 'unreadable' },
    });
    await expect(
      session.setVariable('cfg', Object.defineProperty({}, 'a', { get: fail(undefined), enumerable: true })),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'cfg: must be a JSON value; $.a is unreadable (undefined)',
    });
    const outcomes = await session.setVariables({ n: 5, cfg: throwingGetter() });
    expect(outcomes).toMatchObject({ n: { ok: true }, cfg: { ok: false, error: { code: 'validation_failed' } } });
    expect([await session.getVariable('n'), await session.getVariable('cfg')]).toEqual([5, {}]);
  });

  it('hands out every value it reads deep-frozen, as the embedded runtime does', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const profiles = [];
    for (const session of [await embedded.session('frozen-reads'), await client.session('frozen-reads')]) {
      await session.defineVariable('cfg', 'json', { a: [1] }, { metadata: { tags: ['x'] } });
      await session.defineVariable('c', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
      await session.defineVariable('emb', 'embedding', [1, 2]);
      const seen: VariableChange[] = [];
      await session.watchVariables('cfg', (change) => seen.push(change));
      await session.setVariable('cfg', { a: [1, 2] });
      await waitFor(() => seen.length === 1);
      const exported = await session.exportVariables();
      const read = {
        getVariable: await session.getVariable('cfg'),
        getVariables: Object.values((await session.getVariables(['cfg', 'emb'])).found),
        readVariables: Object.values((await session.readVariables(['cfg', 'emb'])).found).map((entry) => entry.value),
        variableHistory: (await session.variableHistory('cfg')).map((entry) => entry.value),
        watch: [seen[0]!.oldValue, seen[0]!.newValue],
        exportValues: exported.map((entry) => entry.value),
        exportConstraints: exported.map((entry) => entry.constraints),
        exportMetadata: exported.map((entry) => entry.metadata),
        describeVariable: (await session.describeVariable('cfg')).value,
      };
      profiles.push(Object.fromEntries(Object.entries(read).map(([how, values]) => [how, deepFrozen(values)])));
      expect(() => ((read.getVariable as { a: number[] }).a[0] = 5)).toThrow(TypeError);
    }
    expect(Object.values(profiles[0]!).every(Boolean)).toBe(true);
    expect(profiles[1]).toEqual(profiles[0]);
  });

  it('reads each history entry with its own type, after an import changed the type', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const histories = [];
    for (const session of [await embedded.session('typed-history'), await client.session('typed-history')]) {
      await session.defineVariable('a', 'float', Number.NaN);
      await session.importVariables([{ name: 'a', type: 'json', value: 1 }], { replace: true });
      histories.push((await session.variableHistory('a')).map((entry) => [entry.type, entry.value]));
    }
    expect(histories[1]).toEqual([
      ['float', Number.NaN],
      ['json', 1],
    ]);
    expect(histories[1]).toEqual(histories[0]);
  });

  it("tells a watch each value of an import that changed the type with its own type, as the embedded one's", async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const heard: (readonly [unknown, unknown])[][] = [];
    for (const session of [await embedded.session('typed-watch'), await client.session('typed-watch')]) {
      const changes: (readonly [unknown, unknown])[] = [];
      await session.defineVariable('f', 'float', Number.NaN);
      await session.defineVariable('s', 'string', 'Infinity');
      await session.watchVariables('*', (change) => changes.push([change.oldValue, change.newValue]));
      await session.importVariables(
        [
          { name: 'f', type: 'string', value: 'NaN' },
          { name: 's', type: 'float', value: Number.POSITIVE_INFINITY },
        ],
        { replace: true },
      );
      await waitFor(() => changes.length === 2, { message: 'both changes heard' });
      heard.push(changes);
    }
    expect(heard[1]).toEqual([
      [Number.NaN, 'NaN'],
      ['Infinity', Number.POSITIVE_INFINITY],
    ]);
    expect(heard[1]).toEqual(heard[0]);
  });
});
