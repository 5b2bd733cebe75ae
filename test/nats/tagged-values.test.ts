import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { KEPT_DEPTH, KEPT_OPTIONS_DEPTH, keptDepthOf, tagRequest, tagValue } from '../../src/nats/tagged-values.js';
import { untagRequest, untagValue } from '../../src/nats/untag-value.js';

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
      { $: 'unreadable' },
      { $: 'unreadable', message: 5 },
    ]) {
      expect(() => untagRequest({ tagged: true, value: [bad] })).toThrow(
        /field 'value' has a malformed tagged value at value\[0\]/,
      );
    }
  });

  it('refuses a typed array item its class would change, naming the index and class, and keeps every item it holds', () => {
    const typed = (cls: string, items: unknown[]): unknown => ({ $: 'typedArray', class: cls, items });
    const nan = { $: 'number', value: 'NaN' };
    const inf = { $: 'number', value: 'Infinity' };
    for (const [cls, item] of [
      ['Int8Array', 300],
      ['Int8Array', 2.7],
      ['Int8Array', nan],
      ['Int8Array', -129],
      ['Uint8Array', -1],
      ['Uint8ClampedArray', 256],
      ['Uint8ClampedArray', 0.5],
      ['Int16Array', 32768],
      ['Uint16Array', inf],
      ['Int32Array', -(2 ** 31) - 1],
      ['Uint32Array', 2 ** 32],
      ['Float32Array', 3.5e38],
    ] as const) {
      const request = { tagged: true, name: 'emb', value: typed(cls, [1, item]) };
      const refusal = (() => {
        try {
          untagRequest(request);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refusal, `${cls} of ${JSON.stringify(item)}`).toBeInstanceOf(ValidationError);
      expect(refusal).toMatchObject({
        code: 'validation_failed',
        details: { field: 'value', constraint: 'tagged', at: 'value[1]', class: cls, index: 1 },
      });
      expect((refusal as Error).message).toContain(`field 'value' has a malformed tagged value at value[1]: `);
      expect((refusal as Error).message).toContain(cls);
    }
    const held = (cls: string, items: unknown[]): number[] => [...(untagValue(typed(cls, items)) as Iterable<number>)];
    expect(held('Int8Array', [-128, 127, -0])).toEqual([-128, 127, 0]);
    expect(held('Uint8ClampedArray', [0, 255])).toEqual([0, 255]);
    expect(held('Uint32Array', [2 ** 32 - 1])).toEqual([2 ** 32 - 1]);
    expect(held('Int32Array', [-(2 ** 31)])).toEqual([-(2 ** 31)]);
    // A float32 printed in its shortest form (0.1) is taken as the float32 nearest to it.
    expect(held('Float32Array', [0.1, nan, inf])).toEqual([Math.fround(0.1), Number.NaN, Infinity]);
    expect(held('Float64Array', [1e308, nan])).toEqual([1e308, Number.NaN]);
  });

  it('refuses a tagged value nested deeper than any value may be', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => untagValue(deep)).toThrow(ValidationError);
    // The client never sends that deep: what validation does not look at is cut off.
    expect(() => untagValue(JSON.parse(JSON.stringify(tagValue(deep))))).not.toThrow();
  });

  it('refuses a deep tag anywhere but where a client cuts a value off, naming where', () => {
    const deep = { $: 'deep' };
    for (const [value, at] of [
      [deep, 'value'],
      [[1, deep], 'value[1]'],
      [{ $: 'object', entries: [['metadata', { $: 'object', entries: [['k', deep]] }]] }, 'value.metadata.k'],
    ] as const) {
      expect(() => untagValue(value)).toThrow(`field 'value' has a malformed tagged value at ${at}: a deep tag inside`);
    }
    let cut: unknown = deep;
    for (let i = 0; i < 257; i++) cut = [cut];
    expect(() => untagValue(cut)).toThrow('a deep tag inside 257 containers');
    // Inside one more, it is where a client cuts a value off.
    expect(untagValue([cut])).toBeDefined();
  });

  it('keeps options as deep as a json shape nests in them, and takes a deep tag there only below that', () => {
    const kept = keptDepthOf('options');
    expect(kept).toBe(KEPT_OPTIONS_DEPTH);
    expect(keptDepthOf('records')).toBe(KEPT_OPTIONS_DEPTH);
    expect(keptDepthOf('value')).toBe(KEPT_DEPTH);
    let deepest: unknown = [];
    for (let i = 0; i < kept; i++) deepest = [deepest];
    const sent = JSON.parse(JSON.stringify(tagValue(deepest, kept))) as unknown;
    expect(untagValue(sent, 'options')).toEqual(deepest);
    let cut: unknown = { $: 'deep' };
    for (let i = 0; i < kept; i++) cut = [cut];
    expect(() => untagValue(cut, 'options')).toThrow(`a deep tag inside ${kept} containers`);
    expect(untagValue([cut], 'options')).toBeDefined();
  });

  it("refuses a number out of a double's range in a value, plain or tagged, naming the variable", () => {
    const refusal = (body: string): unknown => {
      try {
        untagRequest(JSON.parse(body) as Record<string, unknown>);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [body, variable, at] of [
      ['{"name":"cap","value":1e400}', 'cap', 'value'],
      ['{"name":"cap","value":-1e400,"expectedVersion":1}', 'cap', 'value'],
      ['{"values":{"a":1,"cap":1e400}}', 'cap', 'values.cap'],
      ['{"records":[{"name":"a","value":1},{"name":"cap","value":1e400}]}', 'cap', 'records[1].value'],
      ['{"name":"cap","value":[1e400],"tagged":true}', 'cap', 'value[0]'],
      ['{"values":{"$":"object","entries":[["cap",1e400]]},"tagged":true}', 'cap', 'values.cap'],
      [
        '{"records":[{"$":"object","entries":[["name","cap"],["value",1e400]]}],"tagged":true}',
        'cap',
        'records[0].value',
      ],
    ] as const) {
      const error = refusal(body);
      expect(error, body).toBeInstanceOf(ValidationError);
      expect(error, body).toMatchObject({ details: { constraint: 'double', at, variable } });
      expect((error as Error).message, body).toMatch(
        new RegExp(`^${variable}: the number at .* is out of range of a double`),
      );
    }
    // Infinity meant is a string (a float's value) or a tag; deeper in a plain value, validation refuses it.
    expect(untagRequest({ name: 'cap', value: 'Infinity' })).toEqual({ name: 'cap', value: 'Infinity' });
    expect(untagRequest({ tagged: true, value: { $: 'number', value: '-Infinity' } })).toEqual({ value: -Infinity });
    const nested = { name: 'cfg', value: { a: [Infinity] } };
    expect(untagRequest(nested)).toBe(nested);
  });
});
