import { describe, expect, it } from 'vitest';
import { validateConstraints, validateValue, type JsonShape, type JsonValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

/** Defines the shape as a session would (through validateConstraints), then validates the value. */
function check(shape: JsonShape, value: unknown): unknown {
  return validateValue('json', value, validateConstraints('json', { shape }, 'cfg'), 'cfg');
}

describe('json-shape', () => {
  describe('checking values', () => {
    it.each([
      ['null', null, 'boolean'],
      ['boolean', true, 'null'],
      ['number', 1.5, 'string'],
      ['string', 's', 'number'],
      ['array', [], 'object'],
      ['object', {}, 'array'],
    ] as const)('accepts a %s for type %s and refuses it for another type', (type, value, otherType) => {
      expect(check({ type }, value)).toEqual(value);
      expectValidation(
        () => check({ type: otherType }, value),
        `cfg: $ must be of type ${otherType}, got ${type}`,
        'cfg',
      );
    });

    it('treats integer as a whole number, and number as including integers', () => {
      expect(check({ type: 'integer' }, 3)).toBe(3);
      expect(check({ type: 'number' }, 3)).toBe(3);
      expectValidation(() => check({ type: 'integer' }, 3.5), 'cfg: $ must be of type integer, got number');
    });

    it('accepts any of a list of types', () => {
      expect(check({ type: ['string', 'null'] }, null)).toBeNull();
      expectValidation(
        () => check({ type: ['string', 'null'] }, 1),
        'cfg: $ must be of type string or null, got number',
      );
    });

    it('compares enum members by deep equality', () => {
      const shape: JsonShape = { enum: ['a', 1, [1, 2], { k: 'v' }, null] };
      expect(check(shape, [1, 2])).toEqual([1, 2]);
      expect(check(shape, { k: 'v' })).toEqual({ k: 'v' });
      expect(check(shape, null)).toBeNull();
      expectValidation(() => check(shape, '1'), 'cfg: $ must be one of: "a", 1, [1,2], {"k":"v"}, null');
      expectValidation(() => check(shape, [1, 2, 3]), /must be one of/);
      expectValidation(() => check(shape, { k: 'v', x: 1 }), /must be one of/);
    });

    it('takes an enum member whatever the order of its keys, and tells scalars of different types apart', () => {
      const shape: JsonShape = { enum: [{ a: 1, b: [1, { c: 2 }] }, 1, 'null', [1, 2]] };
      expect(check(shape, { b: [1, { c: 2 }], a: 1 })).toEqual({ a: 1, b: [1, { c: 2 }] });
      expectValidation(() => check(shape, { a: 1, b: [1, { c: 3 }] }), /must be one of/);
      expectValidation(() => check(shape, { a: 1, b: [{ c: 2 }, 1] }), /must be one of/);
      expectValidation(() => check(shape, '1'), /must be one of/);
      expectValidation(() => check(shape, null), /must be one of/);
      expectValidation(() => check(shape, [2, 1]), /must be one of/);
      expect(check(shape, 1.0)).toBe(1);
    });

    it('keeps telling apart values that share parts with an option, and accepts one listed twice', () => {
      const shape: JsonShape = {
        enum: [[1, [2]], { a: [1] }, [], {}, 'x"', { 'a,b': 1, '"': 'q' }, { a: { b: 1 } }, [1, [2]]],
      };
      for (const member of [[1, [2]], { a: [1] }, [], {}, 'x"', { '"': 'q', 'a,b': 1 }, { a: { b: 1 } }]) {
        expect(check(shape, member)).toEqual(member);
      }
      for (const outsider of [
        [[1], 2],
        [1, [2], 3],
        [1],
        { a: 1 },
        { a: [1, 1] },
        '[]',
        '{}',
        [{}],
        { a: { b: 1, c: 1 } },
      ]) {
        expectValidation(() => check(shape, outsider), /must be one of/);
      }
      expectValidation(
        () => check({ enum: [{ a: 1 }, { a: 1 }] }, { a: 2 }),
        'cfg: $ must be one of: {"a":1}, {"a":1}',
      );
    });

    it('checks enums nested in enums, and an object key named __proto__', () => {
      const inner = { k: [true, null] };
      const shape: JsonShape = { items: { enum: [inner, 3], properties: { k: { enum: [[true, null]] } } } };
      expect(check(shape, [{ k: [true, null] }, 3])).toEqual([inner, 3]);
      expectValidation(() => check(shape, [3, { k: [null, true] }]), /^cfg: \$\[1\] must be one of: /);
      const proto = JSON.parse('{"__proto__": 1}') as JsonValue;
      expect(check({ enum: [proto] }, JSON.parse('{"__proto__": 1}'))).toEqual(proto);
      expectValidation(() => check({ enum: [proto] }, {}), 'cfg: $ must be one of: {"__proto__":1}');
    });

    it('reports missing required properties in the order listed, repeats or not, before unexpected ones', () => {
      const shape: JsonShape = {
        required: ['a', 'b', 'a', 'c'],
        additionalProperties: false,
        properties: { a: {}, b: { type: 'string' }, c: {}, d: {} },
      };
      expect(check(shape, { c: 1, b: 's', a: 1 })).toEqual({ a: 1, b: 's', c: 1 });
      expect(check(shape, { a: 1, b: 's', c: 1, d: null })).toEqual({ a: 1, b: 's', c: 1, d: null });
      expectValidation(() => check(shape, { c: 1, z: 1 }), "cfg: $ is missing required property 'a'");
      expectValidation(() => check(shape, { a: 1, c: 1, z: 1 }), "cfg: $ is missing required property 'b'");
      expectValidation(() => check(shape, { a: 1, b: 1, c: 1, z: 1 }), "cfg: $ has unexpected property 'z'");
      expectValidation(() => check(shape, { a: 1, b: 1, c: 1 }), 'cfg: $.b must be of type string, got number');
      expectValidation(() => check(shape, { z: 1, y: 1, a: 1, b: 's', c: 1 }), "cfg: $ has unexpected property 'z'");
    });

    it('reports a required property named like a member every object inherits when the value lacks it', () => {
      const shape: JsonShape = { required: ['constructor', 'toString'] };
      expect(check(shape, { constructor: 1, toString: 'x' })).toEqual({ constructor: 1, toString: 'x' });
      expectValidation(() => check(shape, {}), "cfg: $ is missing required property 'constructor'");
      expectValidation(() => check(shape, { constructor: 1 }), "cfg: $ is missing required property 'toString'");
    });

    it('names a type list as written, repeats included, and accepts any of its distinct types', () => {
      const shape: JsonShape = { type: ['null', 'integer', 'null', 'string'] };
      expect(check(shape, 2)).toBe(2);
      expect(check(shape, 's')).toBe('s');
      expectValidation(() => check(shape, 2.5), 'cfg: $ must be of type null or integer or null or string, got number');
    });

    it("reports the first failing property in the shape's order, whatever the order of the value's keys", () => {
      const shape: JsonShape = { properties: { a: { type: 'string' }, b: { type: 'string' } } };
      expectValidation(() => check(shape, { b: 1, a: 1 }), 'cfg: $.a must be of type string, got number');
      expectValidation(() => check(shape, { b: 1, a: 'x', z: 1 }), 'cfg: $.b must be of type string, got number');
    });

    // Checked in time linear in the value and the shape: these took 16 s and 28 s, a node's one thread held.
    it('checks many items against a large enum and many objects against many properties', () => {
      const options = [...Array.from({ length: 20_000 }, () => 0), 1];
      const items = Array.from({ length: 20_000 }, () => 1);
      expect(check({ items: { enum: options } }, items)).toHaveLength(20_000);
      expectValidation(
        () => check({ items: { enum: options } }, [...items.slice(1), 2]),
        /^cfg: \$\[19999\] must be one of: 0, 0, /,
      );
      const properties = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, {}]));
      expect(
        check(
          { items: { properties } },
          Array.from({ length: 10_000 }, () => ({})),
        ),
      ).toHaveLength(10_000);
      const typed = { ...properties, k19999: { type: 'string' as const } };
      expectValidation(
        () => check({ items: { properties: typed } }, [{ k19999: 's' }, { k0: 1, k19999: 2 }]),
        'cfg: $[1].k19999 must be of type string, got number',
      );
      // A required or type list repeating one entry was as slow, for each object or item checked.
      const required = Array.from({ length: 20_000 }, () => 'a');
      expect(
        check(
          { items: { required } },
          Array.from({ length: 10_000 }, () => ({ a: 1 })),
        ),
      ).toHaveLength(10_000);
      expectValidation(
        () => check({ items: { required: [...required, 'b'] } }, [{ a: 1, b: 1 }, { a: 1 }]),
        "cfg: $[1] is missing required property 'b'",
      );
      const type = [...Array.from({ length: 20_000 }, () => 'null' as const), 'number' as const];
      expect(
        check(
          { items: { type } },
          Array.from({ length: 10_000 }, () => 1),
        ),
      ).toHaveLength(10_000);
      expectValidation(() => check({ items: { type } }, [1, 's']), /^cfg: \$\[1\] must be of type null or null or /);
    });

    it('checks minItems and maxItems at and past their boundaries', () => {
      const shape: JsonShape = { minItems: 1, maxItems: 2 };
      expect(check(shape, [1])).toEqual([1]);
      expect(check(shape, [1, 2])).toEqual([1, 2]);
      expectValidation(() => check(shape, []), 'cfg: $ must have at least 1 items, got 0');
      expectValidation(() => check(shape, [1, 2, 3]), 'cfg: $ must have at most 2 items, got 3');
    });

    it('takes minItems equal to maxItems as an exact count', () => {
      const shape: JsonShape = { minItems: 2, maxItems: 2 };
      expect(check(shape, [1, 2])).toEqual([1, 2]);
      expectValidation(() => check(shape, [1]), 'cfg: $ must have at least 2 items, got 1');
      expectValidation(() => check(shape, [1, 2, 3]), 'cfg: $ must have at most 2 items, got 3');
    });

    it('ignores array and object keywords on values of another type, as JSON Schema does', () => {
      expect(check({ minItems: 3, required: ['a'] }, 'text')).toBe('text');
    });

    it('checks items with their path', () => {
      const shape: JsonShape = { type: 'array', items: { type: 'string' } };
      expect(check(shape, ['a', 'b'])).toEqual(['a', 'b']);
      expectValidation(() => check(shape, ['a', 2]), 'cfg: $[1] must be of type string, got number');
    });

    it('checks required, additionalProperties and properties with their path', () => {
      const shape: JsonShape = {
        type: 'object',
        required: ['model'],
        additionalProperties: false,
        properties: {
          model: { type: 'string' },
          'max tokens': { type: 'integer' },
          nested: { properties: { deep: { enum: [1] } } },
        },
      };
      expect(check(shape, { model: 'm', 'max tokens': 10 })).toEqual({ model: 'm', 'max tokens': 10 });
      expectValidation(() => check(shape, { 'max tokens': 1 }), "cfg: $ is missing required property 'model'");
      expectValidation(() => check(shape, { model: 'm', extra: 1 }), "cfg: $ has unexpected property 'extra'");
      expectValidation(() => check(shape, { model: 1 }), 'cfg: $.model must be of type string, got number');
      expectValidation(
        () => check(shape, { model: 'm', 'max tokens': 1.5 }),
        'cfg: $["max tokens"] must be of type integer, got number',
      );
      const error = expectValidation(
        () => check(shape, { model: 'm', nested: { deep: 2 } }),
        'cfg: $.nested.deep must be one of: 1',
      );
      expect(error.details).toMatchObject({ constraint: 'shape', path: '$.nested.deep' });
    });

    it('allows extra properties unless additionalProperties is false', () => {
      expect(check({ properties: { a: { type: 'string' } } }, { a: 'x', b: 1 })).toEqual({ a: 'x', b: 1 });
    });
  });

  describe('checking shapes at definition time', () => {
    it('returns a frozen copy of a valid shape', () => {
      const shape = { type: 'object', properties: { a: { type: ['string', 'null'] } }, required: ['a'] };
      const constraints = validateConstraints('json', { shape }, 'cfg');
      expect(constraints).toEqual({ shape });
      const stored = constraints.shape as JsonShape;
      expect(stored).not.toBe(shape);
      expect(Object.isFrozen(stored)).toBe(true);
      expect(Object.isFrozen(stored.properties)).toBe(true);
    });

    it('accepts a shape nested 255 levels below its top and refuses one nested a level deeper', () => {
      const nested = (depth: number): JsonShape => (depth === 0 ? { type: 'integer' } : { items: nested(depth - 1) });
      expect(validateConstraints('json', { shape: nested(255) }, 'cfg')).toEqual({ shape: nested(255) });
      expectValidation(
        () => validateConstraints('json', { shape: nested(256) }, 'cfg'),
        /^cfg: constraint shape(\.items){256} is nested deeper than 256 levels$/,
        'cfg',
      );
    });

    it.each([
      ['not an object', 'string', 'cfg: constraint shape must be an object'],
      [
        'an unknown key',
        { typ: 'string' },
        "cfg: constraint shape has unknown key 'typ'; accepted: type, properties, required, additionalProperties, items, enum, minItems, maxItems",
      ],
      [
        'an unknown type name',
        { type: 'float' },
        'cfg: constraint shape type must be one of null, boolean, number, integer, string, array, object, or a non-empty list of them',
      ],
      ['an empty type list', { type: [] }, /^cfg: constraint shape type must be one of/],
      [
        'a bad nested property shape',
        { properties: { a: { type: 'str' } } },
        /^cfg: constraint shape\.properties\.a type must be one of/,
      ],
      [
        'an odd property name with a bad shape',
        { properties: { 'a b': 1 } },
        'cfg: constraint shape.properties["a b"] must be an object',
      ],
      ['properties not an object', { properties: [] }, 'cfg: constraint shape properties must be an object of shapes'],
      [
        'required not a list of strings',
        { required: ['a', 1] },
        'cfg: constraint shape required must be a list of property names',
      ],
      [
        'additionalProperties not a boolean',
        { additionalProperties: 'no' },
        'cfg: constraint shape additionalProperties must be true or false',
      ],
      [
        'a bad items shape',
        { items: { minItems: -1 } },
        'cfg: constraint shape.items minItems must be a non-negative integer',
      ],
      ['an empty enum', { enum: [] }, 'cfg: constraint shape enum must be a non-empty list of JSON values'],
      [
        'a non-JSON enum member',
        { enum: [undefined] },
        'cfg: constraint shape enum must hold JSON values; $[0] is undefined',
      ],
      ['a fractional maxItems', { maxItems: 1.5 }, 'cfg: constraint shape maxItems must be a non-negative integer'],
      [
        'minItems above maxItems',
        { minItems: 3, maxItems: 2 },
        'cfg: constraint shape minItems 3 is greater than maxItems 2',
      ],
    ])('refuses %s', (_label, shape, message) => {
      expectValidation(() => validateConstraints('json', { shape }, 'cfg'), message, 'cfg');
    });
  });
});
