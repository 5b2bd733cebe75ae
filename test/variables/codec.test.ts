import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, validateValue } from '../../src/variables/index.js';

describe('codec', () => {
  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('encodes the float %s as the string %s and decodes it back', (value, wire) => {
    expect(encodeValue('float', value)).toBe(wire);
    expect(JSON.parse(JSON.stringify(encodeValue('float', value)))).toBe(wire);
    expect(decodeValue('float', wire)).toBe(value);
  });

  it('passes finite floats through unchanged', () => {
    expect(encodeValue('float', 1.5)).toBe(1.5);
    expect(decodeValue('float', 1.5)).toBe(1.5);
  });

  it('leaves the same strings alone for other types', () => {
    expect(decodeValue('string', 'NaN')).toBe('NaN');
    expect(decodeValue('choice', 'Infinity')).toBe('Infinity');
    expect(encodeValue('string', 'NaN')).toBe('NaN');
  });

  it('passes other floats strings through for validation to judge', () => {
    expect(decodeValue('float', 'nan')).toBe('nan');
  });

  it('returns validated structured values as they are: already JSON', () => {
    const tensor = validateValue('tensor', { shape: [2], data: [[1], [2]] }, {}, 'w');
    expect(encodeValue('tensor', tensor)).toBe(tensor);
    expect(JSON.parse(JSON.stringify(encodeValue('tensor', tensor)))).toEqual({ shape: [2], data: [1, 2] });
    const json = validateValue('json', { a: [1, null] }, {}, 'j');
    expect(decodeValue('json', encodeValue('json', json))).toBe(json);
  });

  it('round-trips every float through JSON unchanged', () => {
    for (const value of [0, -2.5, 1e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const wire = JSON.parse(JSON.stringify(encodeValue('float', value))) as unknown;
      expect(validateValue('float', decodeValue('float', wire), {}, 'f')).toBe(value);
    }
  });
});
