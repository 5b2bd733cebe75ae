/**
 * How module type names compare. A file of its own, with no Ax in it, so that the wire's spec checks (loaded by
 * every client) spell names as the registry does without loading the registry.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';

/**
 * `ChainOfThought`, `chainofthought`, `chain_of_thought` and `chain-of-thought` are one name: case, `_` and `-` do
 * not count. Nothing else is dropped: with every other character removed, `"Pre\ndict"` or `"Pre dict!"` was
 * `Predict`, and was stored and shown as sent.
 */
export function normalizeModuleName(name: string): string {
  if (typeof name !== 'string')
    throw new ValidationError(`a module type name must be a string, got ${show(name)}`, {
      details: { constraint: 'type' },
    });
  return name.toLowerCase().replace(/[_-]/g, '');
}
