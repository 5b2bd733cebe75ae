import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { tagRequest, tagValue, untagRequest, untagValue } from '../../src/nats/tagged-values.js';

/** What a tagged value becomes on the node: through JSON, as it travels. */
const travel = (value: unknown): unknown => untagValue(JSON.parse(JSON.stringify(tagValue(value))));

describe('tagged values', () => {
  it('leaves a request whose values JSON carries exactly as it is, without the tagged flag', () => {
    const body = { name: 'x', value: { a: [1, 'b', null, true] }, options: {} };
    expect(tagRequest(body, ['value', 'options'])).toBe(body);
  });

  it('brings across what JSON would change: non-finite numbers, undefined, holes, typed arrays', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = travel({ n: [Number.NaN, -Infinity], u: undefined, s: [1, , 3], f: new Float32Array([0.5]) }) as {
      n: number[];
      u: undefined;
      s: number[];
      f: Float32Array;
    };
    expect(back.n).toEqual([Number.NaN, -Infinity]);
    expect(Object.hasOwn(back, 'u') && back.u === undefined).toBe(true);
    expect(1 in back.s).toBe(false);
    expect(back.s).toHaveLength(3);
    expect(back.f).toBeInstanceOf(Float32Array);
    expect([...back.f]).toEqual([0.5]);
  });

  it('brings across what JSON cannot carry as stand-ins of the same kind: cycles, bigints, instances by class name', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { up: cyclic };
    const back = travel(cyclic) as { self: { up: unknown } };
    expect(back.self.up).toBe(back);
    expect(travel(10n)).toBe(10n);
    const date = travel(new Date(0)) as object;
    expect(date.constructor.name).toBe('Date');
    expect(Object.getPrototypeOf(date)).not.toBe(Object.prototype);
    expect(typeof travel(() => 1)).toBe('function');
    expect(typeof travel(Symbol('s'))).toBe('symbol');
  });

  it('keeps a "__proto__" key as data', () => {
    const back = travel(JSON.parse('{"__proto__": {"x": 1}, "n": [1, null]}')) as object;
    expect(Object.keys(back)).toEqual(['__proto__', 'n']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('untags only a request that says so, and refuses a malformed tag with ValidationError naming where', () => {
    const plain = { value: { $: 'number', value: 'NaN' } };
    expect(untagRequest(plain)).toBe(plain);
    expect(untagRequest({ tagged: true, value: { $: 'number', value: 'NaN' } })).toEqual({ value: Number.NaN });
    expect(() => untagRequest({ tagged: 'yes', value: 1 })).toThrow(ValidationError);
    for (const bad of [
      { $: 'nope' },
      { $: 'object' },
      { $: 'object', entries: [[1, 2]] },
      { $: 'number', value: 'one' },
      { $: 'bigint', value: '1e3' },
      { $: 'typedArray', class: 'DataView', items: [] },
      { $: 'typedArray', class: 'Float32Array', items: ['a'] },
      { $: 'cycle', up: 2 },
      { $: 'instance' },
    ]) {
      expect(() => untagRequest({ tagged: true, value: [bad] })).toThrow(
        /field 'value' has a malformed tagged value at value\[0\]/,
      );
    }
  });

  it('refuses a tagged value nested deeper than any value may be', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => untagValue(deep)).toThrow(ValidationError);
    // The client never sends that deep: what validation does not look at is cut off.
    expect(() => untagValue(JSON.parse(JSON.stringify(tagValue(deep))))).not.toThrow();
  });
});
