import { describe, expect, it } from 'vitest';
import { assertSessionId, assertVariableName, isSessionId, isVariableName } from '../../src/variables/index.js';
import { expectValidation } from './expect-validation.js';

describe('names', () => {
  describe('assertVariableName', () => {
    it.each(['t', '_x', 'temperature', 'llm-temp_2', `a${'b'.repeat(127)}`])('accepts %s', (name) => {
      expect(() => assertVariableName(name)).not.toThrow();
      expect(isVariableName(name)).toBe(true);
    });

    it.each([
      ['empty', ''],
      ['a leading digit', '1abc'],
      ['a leading dash', '-abc'],
      ['a dot', 'model.temp'],
      ['a star', 'temp*'],
      ['a NATS wildcard', 'a>'],
      ['a space', 'a b'],
      ['a non-ASCII letter', 'tempé'],
      ['129 characters', `a${'b'.repeat(128)}`],
    ])('refuses %s, showing the value', (_label, name) => {
      const error = expectValidation(
        () => assertVariableName(name),
        /^invalid variable name '.*': must start with an ASCII letter/,
      );
      if (name.length < 60) expect(error.message).toContain(`'${name}'`);
      expect(isVariableName(name)).toBe(false);
    });

    it('uses the exact message for a dotted name', () => {
      expectValidation(
        () => assertVariableName('model.temp'),
        "invalid variable name 'model.temp': must start with an ASCII letter (A-Z, a-z) or _ and hold only ASCII letters, digits, _ or -, at most 128 characters",
      );
    });

    it('refuses a non-string, naming its kind', () => {
      const error = expectValidation(() => assertVariableName(42), 'variable name must be a string, got number');
      expect(error.details).toEqual({ constraint: 'name', expected: 'a string', got: 'number' });
      expectValidation(() => assertVariableName(null), 'variable name must be a string, got null');
      expectValidation(() => assertVariableName(['a']), 'variable name must be a string, got array');
      expectValidation(() => assertVariableName(undefined), 'variable name must be a string, got undefined');
    });

    it('cuts a huge name short and escapes control characters in the message', () => {
      const error = expectValidation(() => assertVariableName('x'.repeat(5000)), /^invalid variable name 'x+…':/);
      expect(error.message.length).toBeLessThan(250);
      expectValidation(() => assertVariableName('a\nb'), /^invalid variable name 'a\\nb':/);
    });
  });

  describe('assertSessionId', () => {
    it.each(['s', '123', 'a1b2-c3_d4', '550e8400-e29b-41d4-a716-446655440000', 'x'.repeat(128)])('accepts %s', (id) => {
      expect(() => assertSessionId(id)).not.toThrow();
      expect(isSessionId(id)).toBe(true);
    });

    it.each([
      ['empty', ''],
      ['a dot', 'a.b'],
      ['a star', '*'],
      ['a slash', 'a/b'],
      ['129 characters', 'x'.repeat(129)],
    ])('refuses %s', (_label, id) => {
      expectValidation(
        () => assertSessionId(id),
        /^invalid session id '.*': must hold only ASCII letters \(A-Z, a-z\), digits, _ or -, 1 to 128 characters$/,
      );
      expect(isSessionId(id)).toBe(false);
    });

    it('shows the offending id in the message', () => {
      const error = expectValidation(
        () => assertSessionId('a.b'),
        "invalid session id 'a.b': must hold only ASCII letters (A-Z, a-z), digits, _ or -, 1 to 128 characters",
      );
      expect(error.details).toMatchObject({ sessionId: 'a.b' });
    });

    it('refuses a non-string, naming its kind as a variable name does', () => {
      const error = expectValidation(() => assertSessionId(undefined), 'session id must be a string, got undefined');
      expect(error.details).toEqual({ constraint: 'sessionId', expected: 'a string', got: 'undefined' });
      expectValidation(() => assertSessionId(42), 'session id must be a string, got number');
      expectValidation(() => assertSessionId(null), 'session id must be a string, got null');
      expectValidation(() => assertSessionId(['s']), 'session id must be a string, got array');
      expect(isSessionId(42)).toBe(false);
    });
  });
});
