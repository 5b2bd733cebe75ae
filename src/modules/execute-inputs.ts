/**
 * The check that `execute`'s inputs are an object of input fields, shared by the embedded and the remote module
 * handle (the fields themselves are the program's to judge: see `inputProblem`, which a remote handle runs too,
 * through remote-input-check.ts).
 * @module
 */
import { ValidationError } from '../errors.js';

/** Throws unless `inputs` is an object of input fields (not an array, not null), as both handles refuse it. */
export function assertInputsObject(
  moduleId: string,
  inputs: unknown,
): asserts inputs is Readonly<Record<string, unknown>> {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new ValidationError(`execute() of module '${moduleId}' takes an object of input fields`);
  }
}
