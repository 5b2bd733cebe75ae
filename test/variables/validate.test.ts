import { describe, expect, it } from 'vitest';
import { errorFromJSON, ValidationError } from '../../src/errors.js';
import {
  assertVariableType,
  isVariableType,
  validateConstraints,
  validateValue,
  VARIABLE_TYPES,
  type VariableType,
} from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

/** Freezing is deep: every object reachable from the value is frozen. */
function expectDeepFrozen(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  expect(Object.isFrozen(value)).toBe(true);
  for (const child of Object.values(value)) expectDeepFrozen(child);
}

describe('validate', () => {
  it.each<[VariableType, unknown, Record<string, unknown>]>([
    ['float', 0.5, {}],
    ['integer', 3, {}],
    ['string', 'x', {}],
    ['boolean', true, {}],
    ['choice', 'a', { choices: ['a'] }],
    ['module', 'Predict', {}],
    ['embedding', [1, 2], {}],
    ['tensor', { shape: [1, 2], data: [[1, 2]] }, {}],
    ['json', { a: [{ b: 1 }] }, {}],
    ['list', [{ a: [1] }], {}],
  ])('returns a deep-frozen %s value detached from the input', (type, input, constraints) => {
    const value = validateValue(type, input, validateConstraints(type, constraints, 'v'), 'v');
    expectDeepFrozen(value);
    if (typeof input === 'object' && input !== null) expect(value).not.toBe(input);
  });

  it('covers all ten types', () => {
    expect(VARIABLE_TYPES).toHaveLength(10);
    for (const type of VARIABLE_TYPES) expect(isVariableType(type)).toBe(true);
  });

  it('refuses an unknown type that reaches it from untyped input', () => {
    expectValidation(
      () => validateValue('int' as VariableType, 1, {}, 'n'),
      "n: unknown variable type 'int'; accepted: float, integer, string, boolean, choice, module, embedding, tensor, json, list",
      'n',
    );
  });

  it('narrows the value type from the variable type', () => {
    const n: number = validateValue('integer', 1, {}, 'n');
    const s: string = validateValue('choice', 'a', { choices: ['a'] }, 'c');
    expect([n, s]).toEqual([1, 'a']);
  });

  it('guards types with isVariableType and assertVariableType', () => {
    expect(isVariableType('float')).toBe(true);
    expect(isVariableType('Float')).toBe(false);
    expect(isVariableType(undefined)).toBe(false);
    expect(() => assertVariableType('list')).not.toThrow();
    expectValidation(() => assertVariableType('str', 'name'), /^name: unknown variable type 'str'; accepted:/, 'name');
    expectValidation(() => assertVariableType('x'.repeat(500)), /^unknown variable type 'x{39}…'; accepted:/);
  });

  it('raises errors that survive the wire with their variable and details', () => {
    const error = expectValidation(
      () => validateValue('float', 1.5, { max: 1 }, 'temperature'),
      'temperature: value 1.5 is above maximum 1',
    );
    const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(error)) as ReturnType<ValidationError['toJSON']>);
    expect(rebuilt).toBeInstanceOf(ValidationError);
    expect(rebuilt.code).toBe('validation_failed');
    expect(rebuilt.message).toBe('temperature: value 1.5 is above maximum 1');
    expect((rebuilt as ValidationError).variable).toBe('temperature');
    expect(rebuilt.details).toMatchObject({ variable: 'temperature', constraint: 'max', max: 1 });
  });
});
