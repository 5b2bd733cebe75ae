import { describe, expect, it } from 'vitest';
import { STORED_CONSTRAINTS_KEPT, createStoredConstraints } from '../../src/variables/stored-constraints.js';
import { expectValidation } from './expect-validation.js';

/** Constraints of a `choice` whose JSON is some `bytes` long: what the budget counts. */
const choicesOf = (bytes: number, letter = 'x') => ({ choices: [letter.repeat(bytes - '{"choices":[""]}'.length)] });

// Found by a review: checked constraints were kept by count alone, whatever their size, and past their delete.
describe('stored-constraints', () => {
  it('gives the constraints it keeps to a record equal to them, keys in any order, and checks any other afresh', () => {
    const stored = createStoredConstraints();
    const shape = { type: 'object', properties: { a: { enum: [1, 2] }, b: { type: 'string' } } };
    const first = stored.check('s.j', 'json', { shape }, 'j');
    const reordered = { properties: { b: { type: 'string' }, a: { enum: [1, 2] } }, type: 'object' };
    expect(stored.check('s.j', 'json', { shape: reordered }, 'j')).toBe(first);
    // Under the same key, other constraints are checked as they are, never taken for the ones kept.
    const other = stored.check('s.j', 'json', { shape: { enum: [1] } }, 'j');
    expect(other).toEqual({ shape: { enum: [1] } });
    // Nor are fewer constraints taken for the ones kept.
    expect(stored.check('s.n', 'float', { min: 0, max: 1 }, 'n')).toEqual({ min: 0, max: 1 });
    expect(stored.check('s.n', 'float', { min: 0 }, 'n')).toEqual({ min: 0 });
    expectValidation(() => stored.check('s.j', 'json', { shape: { enum: [] } }, 'j'), /enum must be a non-empty/, 'j');
    expect(stored.check('s.n', 'float', { min: 0 }, 'n')).not.toBe(stored.check('s.n', 'integer', { min: 0 }, 'n'));
  });

  it('keeps no more than its budget of bytes, dropping the constraints it kept first', () => {
    const stored = createStoredConstraints({ maxBytes: 100 });
    const first = stored.check('s.a', 'choice', choicesOf(40), 'a');
    const second = stored.check('s.b', 'choice', choicesOf(40), 'b');
    const third = stored.check('s.c', 'choice', choicesOf(40), 'c');
    expect(stored.check('s.c', 'choice', choicesOf(40), 'c')).toBe(third);
    expect(stored.check('s.b', 'choice', choicesOf(40), 'b')).toBe(second);
    expect(stored.check('s.a', 'choice', choicesOf(40), 'a')).not.toBe(first);
  });

  it('keeps constraints exactly as long as its whole budget', () => {
    const stored = createStoredConstraints({ maxBytes: 100 });
    const exact = stored.check('s.a', 'choice', choicesOf(100), 'a');
    expect(stored.check('s.a', 'choice', choicesOf(100), 'a')).toBe(exact);
  });

  it('counts the constraints a key held before as gone when the key brings others', () => {
    const stored = createStoredConstraints({ maxBytes: 100 });
    const kept = stored.check('s.b', 'choice', choicesOf(40), 'b');
    stored.check('s.a', 'choice', choicesOf(40), 'a');
    stored.check('s.a', 'choice', choicesOf(40, 'y'), 'a');
    stored.check('s.a', 'choice', choicesOf(40, 'z'), 'a');
    expect(stored.check('s.b', 'choice', choicesOf(40), 'b')).toBe(kept);
  });

  it('keeps the constraints of no more than STORED_CONSTRAINTS_KEPT variables, dropping the one it kept first', () => {
    const stored = createStoredConstraints();
    const keys = Array.from({ length: STORED_CONSTRAINTS_KEPT + 1 }, (_, i) => `s.v${i}`);
    const [first, second] = keys.map((key) => stored.check(key, 'float', { min: 0 }, 'v'));
    expect(stored.check('s.v1', 'float', { min: 0 }, 'v')).toBe(second);
    expect(stored.check('s.v0', 'float', { min: 0 }, 'v')).not.toBe(first);
  });

  it('keeps nothing of constraints longer than its whole budget', () => {
    const stored = createStoredConstraints({ maxBytes: 100 });
    const kept = stored.check('s.a', 'choice', choicesOf(40), 'a');
    const large = stored.check('s.big', 'choice', choicesOf(101), 'big');
    expect(stored.check('s.big', 'choice', choicesOf(101), 'big')).not.toBe(large);
    expect(stored.check('s.a', 'choice', choicesOf(40), 'a')).toBe(kept);
  });

  it('lets go of what it kept for a key when told the key was deleted', () => {
    const stored = createStoredConstraints();
    const first = stored.check('s.a', 'choice', { choices: ['x'] }, 'a');
    stored.forget('s.a');
    expect(stored.check('s.a', 'choice', { choices: ['x'] }, 'a')).not.toBe(first);
  });
});
