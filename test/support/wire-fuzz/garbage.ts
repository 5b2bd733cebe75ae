/**
 * Values a fuzzed payload puts where a field was: strings and numbers at the edges of what a parser or a check
 * handles, nesting past the node's limits, `__proto__` and `constructor` keys, and malformed tagged values
 * (`{ "$": ... }`, the wire form of values JSON has no word for).
 * @module
 */
import { RawJson, plainObject } from './json-text.js';
import type { FuzzRandom } from './random.js';

/** Strings that break ids, subjects, length checks and UTF-16 (lone surrogates); rarely one near the payload limit. */
export function edgeStrings(random: FuzzRandom): unknown[] {
  return [
    '',
    ' ',
    'a.b',
    '*',
    '>',
    'a b',
    '\u0000',
    'line\nbreak',
    '\ud800',
    '\udc00x',
    'x\ud83d',
    '😀é\u200f\u0301',
    '__proto__',
    'constructor',
    'x'.repeat(129),
    'y'.repeat(300),
    'z'.repeat(10_000),
    ...(random.chance(0.02) ? ['w'.repeat(600_000)] : []),
  ];
}

/** Numbers a double cannot hold, the edges of integer ranges, and strings that look like numbers. */
export function edgeNumbers(): unknown[] {
  return [
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1e-400'),
    new RawJson('-0'),
    new RawJson('123456789012345678901234567890'),
    new RawJson('9007199254740993'),
    0.5,
    -1,
    -0.000001,
    2 ** 53,
    2 ** 31,
    2 ** 31 - 1,
    1.0000001,
    'NaN',
    'Infinity',
    '-Infinity',
    '1',
    0,
    1,
  ];
}

/** `n` nested arrays (or objects) around a 1, written as text: deeper than any value a node should walk. */
export function deepNesting(n: number, asObject: boolean): RawJson {
  return new RawJson(asObject ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}` : `${'['.repeat(n)}1${']'.repeat(n)}`);
}

/** Tagged values each wrong in one way; built anew per call, since a mutation may change them in place. */
export function badTaggedValues(): unknown[] {
  return [
    { $: 'deep' },
    { $: 'nope' },
    { $: 'number', value: 'NaN' },
    { $: 'number', value: 5 },
    { $: 'undefined' },
    { $: 'hole' },
    { $: 'function' },
    { $: 'symbol' },
    { $: 'bigint', value: '1'.repeat(5000) },
    { $: 'bigint', value: '12' },
    { $: 'typedArray', class: 'Int8Array', items: [300] },
    { $: 'typedArray', class: 'Float32Array', items: [1e300] },
    { $: 'typedArray', class: 'Object', items: [] },
    { $: 'typedArray', class: '__proto__', items: [1] },
    { $: 'typedArray', class: 'constructor', items: [1] },
    { $: 'typedArray', class: 'Uint8Array', items: { length: 3 } },
    { $: 'instance', class: 'Date' },
    { $: 'instance', class: '__proto__' },
    { $: 'unreadable', message: 'boom' },
    { $: 'unreadable', message: { toString: 1 } },
    { $: 'cycle', up: 0 },
    { $: 'cycle', up: 1 },
    { $: 'cycle', up: -1 },
    { $: 'cycle', up: 1e9 },
    {
      $: 'object',
      entries: [
        ['a', 1],
        ['a', 2],
      ],
    },
    { $: 'object', entries: [['__proto__', { $: 'object', entries: [['polluted', 1]] }]] },
    { $: 'object', entries: [['constructor', { $: 'cycle', up: 1 }]] },
    { $: 'object', entries: 'x' },
    { $: 'object', entries: [[1, 2]] },
    { $: 'object', entries: [], symbolKeys: 'yes' },
    [{ $: 'hole' }, { $: 'cycle', up: 1 }],
  ];
}

/** One garbage value, of any JSON kind. */
export function garbage(random: FuzzRandom): unknown {
  if (random.chance(0.1)) return random.pick(badTaggedValues());
  switch (random.int(12)) {
    case 0:
      return null;
    case 1:
      return random.pick([true, false]);
    case 2:
    case 3:
      return random.pick(edgeNumbers());
    case 4:
    case 5:
      return random.pick(edgeStrings(random));
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return plainObject([
        [random.pick(['__proto__', 'constructor', 'prototype']), random.pick([{ polluted: 1 }, 1, null, []])],
      ]);
    case 9:
      return deepNesting(random.pick([10, 257, 300, 3000]), random.chance(0.5));
    case 10:
      return new RawJson(
        random.pick(['['.repeat(50_000) + ']'.repeat(50_000), '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)]),
      );
    default:
      return [random.pick(edgeStrings(random)), random.pick(edgeNumbers()), null];
  }
}
