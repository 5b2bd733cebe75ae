import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { assertExecutionId } from '../../src/nats/request-fields.js';

describe('assertExecutionId', () => {
  it('takes an id of 128 letters, digits, _ or -, and refuses one of 129 naming the field', () => {
    const longest = `a_-9${'x'.repeat(124)}`;
    expect(assertExecutionId(longest)).toBe(longest);
    for (const id of [`${longest}x`, '', 'a.b', 'a b']) {
      expect(() => assertExecutionId(id), id).toThrow(ValidationError);
      expect(() => assertExecutionId(id), id).toThrow("use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'");
    }
  });
});
