import { describe, expect, it } from 'vitest';
import { closestName } from '../src/cli/closest-name.js';

const SET_OPTIONS = ['session', 'expected-version', 'updated-by', 'text', 'timeout', 'help'];

describe('the option a mistyped one may mean', () => {
  it('names the option one typo away: a letter missing, extra, wrong, or two swapped', () => {
    expect(closestName('update-by', SET_OPTIONS)).toBe('updated-by');
    expect(closestName('sessions', SET_OPTIONS)).toBe('session');
    expect(closestName('timeoot', SET_OPTIONS)).toBe('timeout');
    expect(closestName('txet', SET_OPTIONS)).toBe('text');
  });

  it('names the option a word starts, when only one starts so', () => {
    expect(closestName('expected', SET_OPTIONS)).toBe('expected-version');
    expect(closestName('t', SET_OPTIONS)).toBeUndefined();
  });

  it('guesses nothing for a word far from every option, or as close to two', () => {
    expect(closestName('bogus', SET_OPTIONS)).toBeUndefined();
    expect(closestName('json', ['inputs', 'timeout'])).toBeUndefined();
    // One edit from both.
    expect(closestName('tezt', ['text', 'test'])).toBeUndefined();
  });

  it('allows fewer typos in a short word, where one edit makes another word', () => {
    // Two letters wrong in five: too many to be a typo of 'help'.
    expect(closestName('hexxp', SET_OPTIONS)).toBeUndefined();
    expect(closestName('hlp', SET_OPTIONS)).toBe('help');
  });
});
