import { describe, expect, it } from 'vitest';
import { validateValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('structured-values', () => {
  describe('json', () => {
    it.each([
      ['null', null],
      ['a boolean', false],
      ['a number', 1.5],
      ['a string', 'text'],
      ['an array', [1, 'a', null, [true]]],
      ['an object', { a: { b: [1, { c: 'd' }] } }],
      ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
    ])('accepts %s', (_label, value) => {
      expect(validateValue('json', value, {}, 'cfg')).toEqual(value);
    });

    it('returns a deep frozen copy', () => {
      const input = { a: [{ b: 1 }] };
      const value = validateValue('json', input, {}, 'cfg') as { a: { b: number }[] };
      expect(value).not.toBe(input);
      expect(value.a).not.toBe(input.a);
      expect(Object.isFrozen(value)).toBe(true);
      expect(Object.isFrozen(value.a)).toBe(true);
      expect(Object.isFrozen(value.a[0])).toBe(true);
      input.a[0]!.b = 2;
      expect(value.a[0]!.b).toBe(1);
    });

    it('keeps a "__proto__" key as data instead of changing the prototype', () => {
      const input = JSON.parse('{"__proto__": {"polluted": true}}') as object;
      const value = validateValue('json', input, {}, 'cfg') as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.hasOwn(value, '__proto__')).toBe(true);
      expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('copies a sub-object reused in two places', () => {
      const shared = { x: 1 };
      expect(validateValue('json', { a: shared, b: shared }, {}, 'cfg')).toEqual({ a: { x: 1 }, b: { x: 1 } });
    });

    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;

    it.each([
      ['undefined', undefined, 'cfg: must be a JSON value; $ is undefined'],
      ['an undefined property', { a: undefined }, 'cfg: must be a JSON value; $.a is undefined'],
      ['a function', { f: () => 1 }, 'cfg: must be a JSON value; $.f is a function'],
      ['a symbol', [Symbol('s')], 'cfg: must be a JSON value; $[0] is a symbol'],
      ['a bigint', { n: 1n }, 'cfg: must be a JSON value; $.n is a bigint'],
      ['NaN', { x: [1, Number.NaN] }, 'cfg: must be a JSON value; $.x[1] is NaN, which JSON cannot carry'],
      ['Infinity', Number.POSITIVE_INFINITY, 'cfg: must be a JSON value; $ is Infinity, which JSON cannot carry'],
      ['a cycle', cyclic, 'cfg: must be a JSON value; $.self is a circular reference'],
      ['a Date', { when: new Date(0) }, 'cfg: must be a JSON value; $.when is a Date, not a plain object'],
      ['a Map', new Map(), 'cfg: must be a JSON value; $ is a Map, not a plain object'],
      [
        'a class instance',
        { 'odd key': new (class Point {})() },
        'cfg: must be a JSON value; $["odd key"] is a Point, not a plain object',
      ],
      ['a sparse array', [1, , 3], 'cfg: must be a JSON value; $[1] is a hole in a sparse array'],
      ['a symbol key', { [Symbol('k')]: 1 }, 'cfg: must be a JSON value; $ is an object with symbol keys'],
    ])('refuses %s, naming its path', (_label, value, message) => {
      expectValidation(() => validateValue('json', value, {}, 'cfg'), message, 'cfg');
    });

    it('refuses nesting deeper than 256 levels instead of overflowing the stack', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 300; i++) deep = [deep];
      expectValidation(
        () => validateValue('json', deep, {}, 'cfg'),
        // The message shows the path's ends (it must fit a reply's error header); the details have all of it.
        /^cfg: must be a JSON value; \$(\[0\]){19}\[0…(\[0\]){10} is nested deeper than 256 levels$/,
      );
      expect(() => validateValue('json', deep, {}, 'cfg')).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ path: `$${'[0]'.repeat(256)}` }) }),
      );
      // A list's items and a define's metadata are checked alike, and shown alike.
      expectValidation(
        () => validateValue('list', [deep], {}, 'items'),
        /^items: must be a list of JSON values; \$(\[0\]){19}\[0…(\[0\]){10} is nested deeper than 256 levels$/,
      );
      let ok: unknown = 1;
      for (let i = 0; i < 255; i++) ok = [ok];
      expect(() => validateValue('json', ok, {}, 'cfg')).not.toThrow();
    });

    it('checks the shape constraint after the JSON check', () => {
      const shape = { type: 'object', required: ['model'] } as const;
      expect(validateValue('json', { model: 'gpt' }, { shape }, 'cfg')).toEqual({ model: 'gpt' });
      expectValidation(
        () => validateValue('json', {}, { shape }, 'cfg'),
        "cfg: $ is missing required property 'model'",
        'cfg',
      );
      expectValidation(
        () => validateValue('json', { model: undefined }, { shape }, 'cfg'),
        'cfg: must be a JSON value; $.model is undefined',
      );
    });
  });

  describe('list', () => {
    it('accepts a list of JSON values and returns a deep frozen copy', () => {
      const input = [1, 'a', { b: [true] }];
      const value = validateValue('list', input, {}, 'xs');
      expect(value).toEqual(input);
      expect(value).not.toBe(input);
      expect(Object.isFrozen(value)).toBe(true);
      expect(Object.isFrozen(value[2])).toBe(true);
    });

    it('refuses a non-list and non-JSON items', () => {
      expectValidation(() => validateValue('list', { 0: 'a' }, {}, 'xs'), 'xs: must be a list, got an object', 'xs');
      expectValidation(() => validateValue('list', 'abc', {}, 'xs'), 'xs: must be a list, got "abc"');
      expectValidation(
        () => validateValue('list', [1, undefined], {}, 'xs'),
        'xs: must be a list of JSON values; $[1] is undefined',
      );
      expectValidation(
        () => validateValue('list', [Number.NaN], {}, 'xs'),
        'xs: must be a list of JSON values; $[0] is NaN, which JSON cannot carry',
      );
    });

    it('accepts exactly minItems and maxItems and refuses one past each', () => {
      const bounds = { minItems: 1, maxItems: 2 };
      expect(validateValue('list', ['a'], bounds, 'xs')).toEqual(['a']);
      expect(validateValue('list', ['a', 'b'], bounds, 'xs')).toEqual(['a', 'b']);
      expectValidation(() => validateValue('list', [], bounds, 'xs'), 'xs: must have at least 1 items, got 0', 'xs');
      expectValidation(
        () => validateValue('list', ['a', 'b', 'c'], bounds, 'xs'),
        'xs: must have at most 2 items, got 3',
        'xs',
      );
    });

    it.each([
      ['float', [1, 2.5], [1, '2'], 'xs: item 1 must be a number, got "2"'],
      ['integer', [1, 2.0], [1, 2.5], 'xs: item 1 must be an integer, got 2.5'],
      ['string', ['a', ''], ['a', 1], 'xs: item 1 must be a string, got 1'],
      ['boolean', [true, false], [true, 'false'], 'xs: item 1 must be a boolean (true or false), got "false"'],
    ])('checks itemType %s strictly, without coercion', (itemType, good, bad, message) => {
      const constraints = { itemType } as const;
      expect(validateValue('list', good, constraints, 'xs')).toEqual(good);
      expectValidation(() => validateValue('list', bad, constraints, 'xs'), message, 'xs');
    });

    it('refuses an integer item past 2^53, as an integer variable refuses it', () => {
      const constraints = { itemType: 'integer' } as const;
      const largest = Number.MAX_SAFE_INTEGER;
      expect(validateValue('list', [1, largest, -largest], constraints, 'xs')).toEqual([1, largest, -largest]);
      expectValidation(
        () => validateValue('list', [1, 2 ** 53], constraints, 'xs'),
        'xs: item 1 must be an integer, got 9007199254740992',
        'xs',
      );
    });

    it('checks minItems, maxItems, then itemType', () => {
      const all = { minItems: 2, maxItems: 3, itemType: 'string' } as const;
      expectValidation(() => validateValue('list', [1], all, 'xs'), 'xs: must have at least 2 items, got 1');
      expectValidation(() => validateValue('list', [1, 2, 3, 4], all, 'xs'), 'xs: must have at most 3 items, got 4');
      expectValidation(() => validateValue('list', ['a', 2], all, 'xs'), 'xs: item 1 must be a string, got 2');
    });
  });
});
