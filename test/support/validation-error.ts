/**
 * The `ValidationError` a synchronous call throws, for tests that then look at its fields (the setting it names, its
 * details); any other throw is rethrown, and no throw at all fails the test.
 */
import { ValidationError } from '../../src/errors.js';

/** Runs `build`, and returns the `ValidationError` it threw. */
export function validationErrorOf(build: () => unknown): ValidationError {
  try {
    build();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}
