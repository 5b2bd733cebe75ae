/**
 * The one assertion every variables test makes about a rejection: a `ValidationError`, code
 * `validation_failed`, the exact message, and (when given) the variable it names.
 */
import { expect } from 'vitest';
import { ValidationError } from '../../src/errors.js';

/** Runs `fn`, expects it to throw a ValidationError with exactly `message` (or matching it), and returns it. */
export function expectValidation(fn: () => unknown, message: string | RegExp, variable?: string): ValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a ValidationError to be thrown').toBeInstanceOf(ValidationError);
  const error = caught as ValidationError;
  expect(error.code).toBe('validation_failed');
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  if (variable !== undefined) {
    expect(error.variable).toBe(variable);
    expect(error.details.variable).toBe(variable);
  }
  return error;
}
