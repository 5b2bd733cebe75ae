import { describe, expect, it } from 'vitest';
import { COMPILES_PER_INSTANCE, compileJsonSchema } from '../../src/modules/json-schema-compiler.js';

const wordSchema = (extra: object = {}) => ({
  type: 'object',
  properties: { word: { type: 'string' } },
  required: ['word'],
  ...extra,
});

describe('compileJsonSchema', () => {
  it('keeps a check working after the instance that compiled it was replaced', () => {
    const first = compileJsonSchema(wordSchema());
    for (let i = 0; i < COMPILES_PER_INSTANCE * 2; i++) compileJsonSchema(wordSchema({ title: `t${i}` }));
    expect(first({ word: 'x' })).toBe(true);
    expect(first({ word: 1 })).toBe(false);
  });

  it('compiles two schemas of one $id, each as written', () => {
    const strings = compileJsonSchema(wordSchema({ $id: 'https://example.com/args' }));
    const numbers = compileJsonSchema({
      $id: 'https://example.com/args',
      type: 'object',
      properties: { word: { type: 'number' } },
    });
    expect([strings({ word: 'x' }), numbers({ word: 'x' })]).toEqual([true, false]);
  });

  it("refuses a schema its dialect's meta-schema refuses, naming what is wrong", () => {
    expect(() => compileJsonSchema({ type: 'strng' })).toThrow(/type/);
    expect(() =>
      compileJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: 'word' }),
    ).toThrow(/required/);
  });
});
