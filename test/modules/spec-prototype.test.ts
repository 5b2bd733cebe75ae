import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, toWireSpec, type ModuleSpec } from '../../src/index.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
});

const SIGNATURE = 'question:string -> answer:string';

/** An object whose fields are inherited from `fields`, as `{ __proto__: fields }` or `Object.create(fields)` makes. */
const inheriting = (fields: object): never => Object.create(fields) as never;

/** Specs whose fields, or some of them, are inherited rather than own, each with what the refusal names. */
const cases: [string, () => ModuleSpec, RegExp, string][] = [
  [
    'a spec',
    () => inheriting({ type: 'Predict', signature: SIGNATURE }),
    /^a module spec must be a plain object \(its fields its own\), got an Object$/,
    'spec',
  ],
  [
    'its bindings',
    () => ({ type: 'Predict', signature: SIGNATURE, bindings: inheriting({ temperature: 'missing' }) }),
    /^module spec bindings must be a plain object \(its fields its own\), got an Object$/,
    'bindings',
  ],
  [
    'a binding object',
    () => ({ type: 'Predict', signature: SIGNATURE, bindings: { temperature: inheriting({ variable: 'missing' }) } }),
    /^binding of 'temperature' must be a plain object \(its fields its own\), got an Object$/,
    'bindings.temperature',
  ],
];

describe('a module spec with inherited fields', () => {
  it.each(cases)(
    'is refused when %s inherits its fields, embedded and by the remote client alike, creating nothing',
    async (_, spec, message, field) => {
      const runtime = await Runtime.start({ onError: () => {} });
      runtimes.push(runtime);
      const session = await runtime.session('inherited');
      // Before: the embedded runtime read a spec's inherited fields but not its bindings', so a binding of a
      // variable that does not exist was dropped without a word, and the remote client sent none of them.
      const error = await session.module('m', spec()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'validation_failed', details: { field } });
      expect((error as Error).message).toMatch(message);
      expect(await session.modules()).toEqual([]);
      expect(() => toWireSpec(spec())).toThrow(message);
    },
  );

  it('still takes a spec, bindings and binding made with Object.create(null)', async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    const session = await runtime.session('bare');
    await session.defineVariable('t', 'float', 0.5);
    const bare = <T extends object>(fields: T): T => Object.assign(Object.create(null) as T, fields);
    const spec = bare({
      type: 'Predict',
      signature: SIGNATURE,
      bindings: bare({ temperature: bare({ variable: 't' }) }),
    });
    const result = await (await session.module('m', spec)).execute({ question: 'q' });
    expect(result.provenance).toEqual({ t: 1 });
    expect(toWireSpec(spec)).toEqual({ type: 'Predict', signature: SIGNATURE, bindings: { temperature: 't' } });
  });
});
