import { describe, expect, it } from 'vitest';
import { constraintKeys, validateConstraints, VARIABLE_TYPES, type VariableType } from '../../src/variables/index.js';
import { validateStoredConstraints } from '../../src/variables/constraints.js';
import { expectValidation } from './expect-validation.js';

describe('constraints', () => {
  it('accepts empty, undefined and null constraints for every type but choice', () => {
    for (const type of VARIABLE_TYPES.filter((t) => t !== 'choice')) {
      expect(validateConstraints(type, {}, 'v')).toEqual({});
      expect(validateConstraints(type, undefined, 'v')).toEqual({});
      expect(validateConstraints(type, null, 'v')).toEqual({});
    }
  });

  it.each([
    ['float', { min: -1, max: 1 }],
    ['integer', { min: 0, max: 0 }],
    ['string', { minLength: 0, maxLength: 10, pattern: '^[a-z]+$', enum: ['a', 'b'] }],
    ['choice', { choices: ['red'] }],
    ['module', { allowedModules: ['Predict', 'ChainOfThought'] }],
    ['embedding', { dimensions: 768 }],
    ['tensor', { shape: [null, 3, 0] }],
    ['json', { shape: { type: 'object' } }],
    ['list', { minItems: 1, maxItems: 1, itemType: 'integer' }],
  ] as const)('accepts valid %s constraints and returns a frozen copy', (type, constraints) => {
    const normalized = validateConstraints(type, constraints, 'v');
    expect(normalized).toEqual(constraints);
    expect(normalized).not.toBe(constraints);
    expect(Object.isFrozen(normalized)).toBe(true);
  });

  it('drops keys whose value is undefined', () => {
    expect(validateConstraints('float', { min: 0, max: undefined }, 'v')).toEqual({ min: 0 });
  });

  it('refuses an unknown type, listing the ten', () => {
    expectValidation(
      () => validateConstraints('int', {}, 'n'),
      "n: unknown variable type 'int'; accepted: float, integer, string, boolean, choice, module, embedding, tensor, json, list",
      'n',
    );
    expectValidation(() => validateConstraints(7, {}), /^unknown variable type number; accepted: float,/);
  });

  it('refuses an unknown constraint key, naming it and the accepted keys', () => {
    const error = expectValidation(
      () => validateConstraints('string', { maxLen: 3 }, 'name'),
      "name: unknown constraint 'maxLen' for type string; accepted: minLength, maxLength, pattern, enum",
      'name',
    );
    expect(error.details).toMatchObject({
      constraint: 'maxLen',
      accepted: ['minLength', 'maxLength', 'pattern', 'enum'],
    });
  });

  it('refuses a key of another type (min on a string)', () => {
    expectValidation(
      () => validateConstraints('string', { min: 1 }, 's'),
      "s: unknown constraint 'min' for type string; accepted: minLength, maxLength, pattern, enum",
    );
  });

  it('refuses any key on boolean, which takes none', () => {
    expectValidation(
      () => validateConstraints('boolean', { default: true }, 'b'),
      "b: unknown constraint 'default' for type boolean; accepted: none",
    );
  });

  it('refuses an unknown key even when its value is undefined', () => {
    expectValidation(
      () => validateConstraints('float', { mni: undefined }, 'f'),
      /^f: unknown constraint 'mni' for type float/,
    );
  });

  it('refuses constraints that are not an object', () => {
    expectValidation(
      () => validateConstraints('float', [1], 'f'),
      'f: constraints must be an object, got an array',
      'f',
    );
    expectValidation(() => validateConstraints('float', 'min=1', 'f'), 'f: constraints must be an object, got "min=1"');
  });

  it('reports without a variable prefix when no name is given', () => {
    const error = expectValidation(
      () => validateConstraints('float', { min: 'a' }),
      'constraint min must be a finite number, got "a"',
    );
    expect(error.variable).toBeUndefined();
  });

  it('requires choices for a choice variable', () => {
    expectValidation(
      () => validateConstraints('choice', {}, 'color'),
      'color: constraint choices is required for type choice',
      'color',
    );
  });

  it('refuses an invalid pattern instead of turning it literal, keeping the engine error as cause', () => {
    const error = expectValidation(
      () => validateConstraints('string', { pattern: '(' }, 's'),
      /^s: constraint pattern is not a valid regular expression: Invalid regular expression: \/\(\/: Unterminated group$/,
      's',
    );
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.details).toMatchObject({ constraint: 'pattern' });
  });

  const REFUSED: [VariableType, Record<string, unknown>, string][] = [
    ['float', { min: '0' }, 'v: constraint min must be a finite number, got "0"'],
    ['float', { max: Number.POSITIVE_INFINITY }, 'v: constraint max must be a finite number, got Infinity'],
    ['float', { max: Number.NaN }, 'v: constraint max must be a finite number, got NaN'],
    ['float', { min: 2, max: 1 }, 'v: constraint min 2 is greater than max 1'],
    ['integer', { min: null }, 'v: constraint min must be a finite number, got null'],
    ['integer', { min: 5, max: 4 }, 'v: constraint min 5 is greater than max 4'],
    ['string', { minLength: -1 }, 'v: constraint minLength must be a non-negative integer, got -1'],
    ['string', { maxLength: 2.5 }, 'v: constraint maxLength must be a non-negative integer, got 2.5'],
    ['string', { minLength: 3, maxLength: 2 }, 'v: constraint minLength 3 is greater than maxLength 2'],
    ['string', { pattern: /a/ }, 'v: constraint pattern must be a RegExp source string, got a RegExp'],
    ['string', { enum: [] }, 'v: constraint enum must be a non-empty list of strings, got an array'],
    ['choice', { choices: [] }, 'v: constraint choices must be a non-empty list of strings, got an array'],
    ['choice', { choices: 'red' }, 'v: constraint choices must be a non-empty list of strings, got "red"'],
    ['choice', { choices: ['red', 1] }, 'v: constraint choices must hold only strings, got 1'],
    ['choice', { choices: ['red', 'red'] }, "v: constraint choices lists 'red' twice"],
    [
      'module',
      { allowedModules: [] },
      'v: constraint allowedModules must be a non-empty list of strings, got an array',
    ],
    ['module', { allowedModules: ['Predict', ''] }, 'v: constraint allowedModules must not hold an empty module name'],
    ['embedding', { dimensions: 0 }, 'v: constraint dimensions must be a positive integer, got 0'],
    ['embedding', { dimensions: 1.5 }, 'v: constraint dimensions must be a positive integer, got 1.5'],
    ['embedding', { dimensions: '768' }, 'v: constraint dimensions must be a positive integer, got "768"'],
    ['tensor', { shape: 3 }, 'v: constraint shape must be a list of sizes (non-negative integers or null), got 3'],
    [
      'tensor',
      { shape: [2, -1] },
      'v: constraint shape must be a list of sizes (non-negative integers or null), got -1 at index 1',
    ],
    [
      'tensor',
      { shape: [2, 'any'] },
      'v: constraint shape must be a list of sizes (non-negative integers or null), got "any" at index 1',
    ],
    ['json', { shape: null }, 'v: constraint shape must be an object'],
    ['list', { minItems: -1 }, 'v: constraint minItems must be a non-negative integer, got -1'],
    ['list', { minItems: 2, maxItems: 1 }, 'v: constraint minItems 2 is greater than maxItems 1'],
    [
      'list',
      { itemType: 'json' },
      'v: constraint itemType must be one of: float, integer, string, boolean, got "json"',
    ],
  ];
  it.each(REFUSED)('refuses %s constraints %j', (type, constraints, message) => {
    expectValidation(() => validateConstraints(type, constraints, 'v'), message, 'v');
  });

  // Found by a review: a pattern an earlier version took at definition (a lookahead, before the linear-time matcher)
  // made every record of its variable unreadable after the upgrade.
  it('takes a stored pattern a definition now refuses, as it is', () => {
    const constraints = { maxLength: 9, pattern: '^(?=[a-z])[a-z0-9]+$' };
    expectValidation(() => validateConstraints('string', constraints, 'v'), /lookahead/, 'v');
    expect(validateStoredConstraints('string', constraints, 'v')).toEqual(constraints);
    expect(validateStoredConstraints('string', { pattern: '(' }, 'v')).toEqual({ pattern: '(' });
  });

  it.each(REFUSED)('refuses stored %s constraints %j as a definition does', (type, constraints, message) => {
    expectValidation(() => validateStoredConstraints(type, constraints, 'v'), message, 'v');
  });

  it('lists each type’s keys in checking order', () => {
    expect(constraintKeys('string')).toEqual(['minLength', 'maxLength', 'pattern', 'enum']);
    expect(constraintKeys('boolean')).toEqual([]);
  });
});
