import { describe, expect, it } from 'vitest';
import { validateDefineOptions } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('define-options', () => {
  it('accepts constraints, description and metadata and returns a frozen copy', () => {
    const input = {
      constraints: { min: 0 },
      description: 'sampling temperature',
      metadata: { owner: 'ml', tags: ['a'] },
    };
    const options = validateDefineOptions(input, 't');
    expect(options).toEqual(input);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.metadata)).toBe(true);
    expect(options.metadata).not.toBe(input.metadata);
    expect(Object.isFrozen(options.constraints)).toBe(true);
    expect(options.constraints).not.toBe(input.constraints);
  });

  it('treats undefined and {} as no options', () => {
    expect(validateDefineOptions(undefined)).toEqual({});
    expect(validateDefineOptions({})).toEqual({});
  });

  it('drops options whose value is undefined', () => {
    expect(validateDefineOptions({ description: undefined, metadata: undefined })).toEqual({});
  });

  it('refuses an unknown option key, naming the accepted ones', () => {
    const error = expectValidation(
      () => validateDefineOptions({ descripton: 'x' }, 't'),
      "t: unknown option 'descripton'; accepted: constraints, description, metadata",
      't',
    );
    expect(error.details).toMatchObject({ constraint: 'descripton' });
    expectValidation(
      () => validateDefineOptions({ min: 0 }),
      "unknown option 'min'; accepted: constraints, description, metadata",
    );
  });

  it('refuses options that are not an object', () => {
    expectValidation(() => validateDefineOptions('desc', 't'), 't: options must be an object, got "desc"', 't');
    expectValidation(() => validateDefineOptions([], 't'), 't: options must be an object, got an array');
    // As every other operation's options. (The wire reads `"options": null` as no options, a JSON writer's way of
    // leaving an optional field out; an embedded caller who passes `null` has made a mistake.)
    expectValidation(() => validateDefineOptions(null, 't'), 't: options must be an object, got null');
  });

  it('refuses a non-string description', () => {
    expectValidation(
      () => validateDefineOptions({ description: 42 }, 't'),
      't: option description must be a string, got 42',
      't',
    );
  });

  it('refuses metadata that is not a JSON object', () => {
    expectValidation(
      () => validateDefineOptions({ metadata: ['a'] }, 't'),
      't: option metadata must be a JSON object, got an array',
      't',
    );
    expectValidation(
      () => validateDefineOptions({ metadata: 'x' }, 't'),
      't: option metadata must be a JSON object, got "x"',
    );
    expectValidation(
      () => validateDefineOptions({ metadata: { at: new Date(0) } }, 't'),
      't: option metadata must be a JSON object; $.at is a Date, not a plain object',
    );
  });

  it('refuses constraints that are not an object, leaving their content to validateConstraints', () => {
    expectValidation(
      () => validateDefineOptions({ constraints: [1] }, 't'),
      't: option constraints must be an object, got an array',
      't',
    );
    expect(validateDefineOptions({ constraints: { anything: 1 } }).constraints).toEqual({ anything: 1 });
  });
});
