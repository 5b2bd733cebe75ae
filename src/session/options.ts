/**
 * Option bags are checked for unknown keys: DSPex silently dropped a misspelled option, Tether refuses it.
 * @module
 */
import { ValidationError } from '../errors.js';

/** Throws `ValidationError` naming the operation and the unknown keys when `options` has keys outside `allowed`. */
export function assertOptions(options: unknown, allowed: readonly string[], operation: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`${operation} options must be an object`);
  }
  const unknown = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `${operation} got unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; accepted: ${allowed.join(', ')}`,
      {
        details: { operation, unknown, allowed },
      },
    );
  }
}
