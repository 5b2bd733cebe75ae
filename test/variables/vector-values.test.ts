import { describe, expect, it } from 'vitest';
import { validateValue } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('vector-values', () => {
  describe('embedding', () => {
    it('accepts a list of finite numbers and returns a frozen copy', () => {
      const input = [0.1, -2, 3];
      const value = validateValue('embedding', input, {}, 'vec');
      expect(value).toEqual([0.1, -2, 3]);
      expect(value).not.toBe(input);
      expect(Object.isFrozen(value)).toBe(true);
    });

    it('accepts a Float32Array and returns a plain array', () => {
      const value = validateValue('embedding', new Float32Array([0.5, 1]), { dimensions: 2 }, 'vec');
      expect(Array.isArray(value)).toBe(true);
      expect(value).toEqual([0.5, 1]);
    });

    it('normalises -0 to 0, as JSON carries it', () => {
      expect(Object.is(validateValue('embedding', [-0, 1], {}, 'vec')[0], 0)).toBe(true);
      expect(Object.is(validateValue('embedding', new Float64Array([-0]), {}, 'vec')[0], 0)).toBe(true);
    });

    it('accepts an empty list when no dimensions are set', () => {
      expect(validateValue('embedding', [], {}, 'vec')).toEqual([]);
    });

    it('refuses a non-list with DSPex wording', () => {
      expectValidation(() => validateValue('embedding', 'x', {}, 'vec'), 'vec: must be a numeric list, got "x"', 'vec');
      expectValidation(
        () => validateValue('embedding', new BigInt64Array(1), {}, 'vec'),
        'vec: must be a numeric list, got a BigInt64Array',
      );
    });

    it('refuses a non-number or non-finite item, naming its index', () => {
      expectValidation(
        () => validateValue('embedding', [1, '2'], {}, 'vec'),
        'vec: must be a list of numbers, got "2" at index 1',
        'vec',
      );
      expectValidation(
        () => validateValue('embedding', [1, Number.NaN], {}, 'vec'),
        'vec: must be a list of numbers, got NaN at index 1',
      );
      expectValidation(
        () => validateValue('embedding', [Number.POSITIVE_INFINITY], {}, 'vec'),
        'vec: must be a list of numbers, got Infinity at index 0',
      );
    });

    it('accepts exactly dimensions items and refuses one fewer or one more', () => {
      expect(validateValue('embedding', [1, 2, 3], { dimensions: 3 }, 'vec')).toEqual([1, 2, 3]);
      expectValidation(
        () => validateValue('embedding', [1, 2], { dimensions: 3 }, 'vec'),
        'vec: must have exactly 3 dimensions, got 2',
        'vec',
      );
      expectValidation(
        () => validateValue('embedding', [1, 2, 3, 4], { dimensions: 3 }, 'vec'),
        'vec: must have exactly 3 dimensions, got 4',
      );
    });
  });

  describe('tensor', () => {
    it('accepts flat data whose length is the product of shape', () => {
      expect(validateValue('tensor', { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, {}, 'w')).toEqual({
        shape: [2, 3],
        data: [1, 2, 3, 4, 5, 6],
      });
    });

    it('flattens nested data in row-major order', () => {
      const value = validateValue(
        'tensor',
        {
          shape: [2, 2, 2],
          data: [
            [
              [1, 2],
              [3, 4],
            ],
            [
              [5, 6],
              [7, 8],
            ],
          ],
        },
        {},
        'w',
      );
      expect(value.data).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(Object.isFrozen(value)).toBe(true);
      expect(Object.isFrozen(value.data)).toBe(true);
      expect(Object.isFrozen(value.shape)).toBe(true);
    });

    it('accepts a scalar (empty shape, one value) and an empty tensor (a zero dimension)', () => {
      expect(validateValue('tensor', { shape: [], data: [5] }, {}, 'w')).toEqual({ shape: [], data: [5] });
      expect(validateValue('tensor', { shape: [0, 3], data: [] }, {}, 'w')).toEqual({ shape: [0, 3], data: [] });
      // The sizes before the 0 multiply past Number.MAX_VALUE: still no values, wherever the 0 sits.
      const huge = [...Array.from({ length: 20 }, () => Number.MAX_SAFE_INTEGER), 0];
      expect(validateValue('tensor', { shape: huge, data: [] }, {}, 'w')).toEqual({ shape: huge, data: [] });
    });

    it('refuses data that does not match its shape', () => {
      expectValidation(
        () => validateValue('tensor', { shape: [2, 3], data: [1, 2, 3, 4, 5] }, {}, 'w'),
        "w: data size doesn't match shape: shape [2, 3] needs 6 values, got 5",
        'w',
      );
      expectValidation(
        () =>
          validateValue(
            'tensor',
            {
              shape: [2, 2],
              data: [
                [1, 2],
                [3, 4, 5],
              ],
            },
            {},
            'w',
          ),
        "w: data size doesn't match shape: shape [2, 2] needs 4 values, got 5",
      );
    });

    it.each([
      ['a list', [1, 2], 'w: must be a tensor with shape and data, got an array'],
      ['an object without data', { shape: [1] }, 'w: must be a tensor with shape and data, got an object'],
      ['null', null, 'w: must be a tensor with shape and data, got null'],
      [
        'an extra key',
        { shape: [1], data: [1], dtype: 'f32' },
        "w: must be a tensor with shape and data; unexpected key 'dtype'",
      ],
      [
        'a negative size',
        { shape: [2, -1], data: [] },
        'w: must be a tensor with shape and data; shape must be a list of non-negative integers, got -1 at index 1',
      ],
      [
        'a fractional size',
        { shape: [1.5], data: [1] },
        'w: must be a tensor with shape and data; shape must be a list of non-negative integers, got 1.5 at index 0',
      ],
      [
        'a string shape',
        { shape: '2x2', data: [] },
        'w: must be a tensor with shape and data; shape must be a list of non-negative integers, got "2x2"',
      ],
      ['scalar data', { shape: [], data: 5 }, 'w: must be a tensor with shape and data; data must be a list, got 5'],
      [
        'a string in data',
        { shape: [2], data: [1, 'x'] },
        'w: must be a tensor with shape and data; data must hold only finite numbers, got "x"',
      ],
      [
        'NaN in data',
        { shape: [1], data: [[Number.NaN]] },
        'w: must be a tensor with shape and data; data must hold only finite numbers, got NaN',
      ],
    ])('refuses %s', (_label, value, message) => {
      expectValidation(() => validateValue('tensor', value, {}, 'w'), message, 'w');
    });

    it('refuses data that contains itself instead of recursing forever', () => {
      const data: unknown[] = [1];
      data.push(data);
      expectValidation(
        () => validateValue('tensor', { shape: [2], data }, {}, 'w'),
        'w: must be a tensor with shape and data; data is nested deeper than 256 levels',
      );
    });

    it('accepts data nested 256 levels and refuses one level more', () => {
      const nested = (depth: number): unknown => (depth === 0 ? 7 : [nested(depth - 1)]);
      expect(validateValue('tensor', { shape: [1], data: nested(256) }, {}, 'w')).toEqual({ shape: [1], data: [7] });
      expectValidation(
        () => validateValue('tensor', { shape: [1], data: nested(257) }, {}, 'w'),
        'w: must be a tensor with shape and data; data is nested deeper than 256 levels',
        'w',
      );
    });

    it('matches a shape constraint dimension by dimension, null accepting any size', () => {
      const constraints = { shape: [null, 2] };
      expect(validateValue('tensor', { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, constraints, 'w').shape).toEqual([
        3, 2,
      ]);
      expect(validateValue('tensor', { shape: [1, 2], data: [1, 2] }, constraints, 'w').shape).toEqual([1, 2]);
      expectValidation(
        () => validateValue('tensor', { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, constraints, 'w'),
        'w: shape must be [null, 2], got [2, 3]',
        'w',
      );
      expectValidation(
        () => validateValue('tensor', { shape: [2], data: [1, 2] }, constraints, 'w'),
        'w: shape must be [null, 2], got [2]',
      );
      expectValidation(
        () => validateValue('tensor', { shape: [1, 2, 1], data: [1, 2] }, constraints, 'w'),
        'w: shape must be [null, 2], got [1, 2, 1]',
      );
    });

    it('checks the data size before the shape constraint', () => {
      expectValidation(
        () => validateValue('tensor', { shape: [9], data: [1] }, { shape: [1] }, 'w'),
        "w: data size doesn't match shape: shape [9] needs 9 values, got 1",
      );
    });
  });
});
