import { describe, expect, it } from 'vitest';
import { jsonBytes } from '../../src/nats/json-size.js';

/** What the wire carries: the UTF-8 bytes of the value's JSON. */
const encoded = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value) ?? '').length;

describe('jsonBytes', () => {
  it('is the size of the JSON text, for every kind of value JSON writes or leaves out', () => {
    const values: unknown[] = [
      'plain',
      'quote " backslash \\ newline \n tab \t control \u0001',
      'é ü 中文 😀 and a lone surrogate \ud800',
      0,
      -0,
      1.5e-7,
      1e21,
      -42,
      NaN,
      Infinity,
      true,
      false,
      null,
      undefined,
      [],
      {},
      [1, undefined, () => 1, Symbol('s'), null, 'two'],
      { a: 1, skipped: undefined, fn: () => 1, b: [{ c: 'd' }], 'ké y"': 'v' },
      { map: new Map([['a', 1]]), when: new Date(0), nested: { deeper: { deepest: [NaN, -Infinity] } } },
    ];
    for (const value of values) expect([value, jsonBytes(value)]).toEqual([value, encoded(value)]);
  });

  it('measures an object once: a record shared by many snapshots is not walked again', () => {
    let reads = 0;
    const record = {
      get value() {
        reads += 1;
        return 'x'.repeat(1000);
      },
    };
    const first = jsonBytes({ variables: { a: record } });
    const second = jsonBytes({ variables: { a: record, b: 1 } });
    expect(first).toBe(encoded({ variables: { a: { value: 'x'.repeat(1000) } } }));
    expect(second).toBe(first + ',"b":1'.length);
    expect(reads).toBe(1);
  });

  it('measures a Map every time, as it changes in place', () => {
    const map = new Map<string, number>();
    expect(jsonBytes(map)).toBe(2);
    (map as unknown as Record<string, number>).own = 1;
    expect(jsonBytes(map)).toBe(encoded(map));
  });

  it('throws on a BigInt, as encoding it would', () => {
    expect(() => jsonBytes({ n: 1n })).toThrow(TypeError);
  });
});
