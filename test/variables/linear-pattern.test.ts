import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { toLinearInput, toLinearPattern } from '../../src/variables/linear-pattern.js';

/** The rewritten pattern's answer, to compare with `new RegExp(source).test(value)`. */
function linearTest(source: string, value: string): boolean {
  const linear = toLinearPattern(source);
  if (!('re2' in linear)) throw new Error(`refused ${source}: ${linear.unsupported}`);
  return RE2JS.compile(linear.re2).test(toLinearInput(value));
}

// Inputs that tell the two engines apart: line terminators, JS-only whitespace, astral characters (two code
// units in JS), lone surrogates, and the letters of RE2-only escapes.
const INPUTS = [
  '',
  'a',
  'A',
  'ab',
  'abc',
  'aB1_',
  '1-z',
  ' ',
  '\n',
  '\r',
  '\v',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '😀',
  '😀😀',
  'x😀y',
  '\ud83d',
  '\ude00',
  'é',
  'e\u0301',
  '\\',
  '{',
  '}',
  ']',
  'a{01}',
  'x'.repeat(41),
  'u'.repeat(41),
  '\\c',
  '\x01',
  '\b',
  '\0',
  'pL',
  'Q',
  'z',
  '/',
  'word boundary',
];

describe('linear-pattern', () => {
  it.each([
    // Spellings RE2 reads differently from JS; each must keep its JS meaning.
    ['.', 'any code unit but a line terminator (RE2: any rune but \\n)'],
    ['^.$', 'one code unit, so not an astral character'],
    ['^..$', 'two code units, so one astral character'],
    ['\\s', 'JS whitespace, including \\v, NBSP and BOM'],
    ['^\\S+$', 'the complement of JS whitespace'],
    ['[\\S]', '\\S inside a class'],
    ['[^\\s]', 'negated \\s inside a class'],
    ['\\A', 'a literal A (RE2: start of text)'],
    ['\\z', 'a literal z (RE2: end of text)'],
    ['\\pL', 'a literal pL (RE2: a Unicode letter)'],
    ['\\Q', 'a literal Q (RE2: start of quoting)'],
    ['^[[:alpha:]]$', 'a class of [:alph then a literal ] (RE2: a POSIX class)'],
    ['\\x{41}', 'x 41 times (RE2: the letter A)'],
    ['^a{01}$', 'a once (RE2: literal text)'],
    ['[]', 'nothing'],
    ['[^]', 'any code unit'],
    ['^[😀]$', 'either surrogate of the emoji, alone'],
    ['😀', 'the emoji'],
    ['\\ud83d', 'a high surrogate, paired or not'],
    ['[\\ud800-\\udfff]', 'any surrogate'],
    ['^[\\u0000-\\uffff]$', 'one code unit, surrogates included'],
    ['\\cA', 'control-A'],
    ['[\\c1]', 'a control digit inside a class'],
    ['\\c', 'a literal backslash then c'],
    ['[\\b]', 'backspace inside a class'],
    ['\\bword\\b', 'ASCII word boundaries'],
    ['[\\d-z]', 'a dash next to a set, literal'],
    ['\\u{41}', 'u 41 times (no u flag)'],
    ['^(?<first>a)(b)?$', 'groups, named and not'],
    ['(?:a|b)*?c?$', 'lazy quantifiers and an end anchor'],
    ['a$', 'end of input only, not before a final newline'],
    ['\\x4', 'a literal x then 4'],
    ['\\/\\-\\ ', 'identity escapes'],
  ])('gives %s the meaning JS gives it: %s', (source) => {
    const js = new RegExp(source);
    for (const value of INPUTS) expect(linearTest(source, value), JSON.stringify(value)).toBe(js.test(value));
  });

  it('agrees with RegExp on generated patterns over the same inputs', () => {
    const atoms = ['a', 'b', '.', '\\s', '\\S', '\\d', '\\w', '\\W', '\\b', '[ab]', '[^a]', '[a-c]', '\\u00a0'];
    const atomsMore = ['😀', '\\ud83d', '[\\s\\d]', '(a|b)', '(?:a)', '$', '^', '{', ']', 'x{2,}', '\\x41'];
    const all = [...atoms, ...atomsMore];
    const quantifiers = ['', '', '*', '+', '?', '{2}', '{0,2}', '*?'];
    let seed = 7;
    const pick = <T>(items: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return items[(seed >>> 16) % items.length] as T; // the high bits: an LCG's low bits cycle quickly
    };
    let compared = 0;
    for (let n = 0; n < 1500; n++) {
      let source = '';
      for (let k = 0; k < 3; k++) source += pick(all) + pick(quantifiers) + pick(['', '', '', '|']);
      let js: RegExp;
      try {
        js = new RegExp(source);
      } catch {
        continue;
      }
      for (const value of INPUTS.slice(0, 20)) {
        expect(linearTest(source, value), `${source} on ${JSON.stringify(value)}`).toBe(js.test(value));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it.each([
    ['(a)\\1', 'backreference or octal escape \\1'],
    ['\\01', 'backreference or octal escape \\0'],
    ['[\\1]', 'backreference or octal escape \\1'],
    ['(?<n>a)\\k<n>', 'named backreference \\k'],
    ['a(?=b)', 'lookahead (?='],
    ['a(?!b)', 'lookahead (?!'],
    ['(?<=a)b', 'lookbehind (?<='],
    ['(?<!a)b', 'lookbehind (?<!'],
    ['a{1001}', 'repeat count {1001} (the most is 1000)'],
    ['a{2,5000}', 'repeat count {2,5000} (the most is 1000)'],
  ])('refuses %s: %s', (source, unsupported) => {
    expect(toLinearPattern(source)).toEqual({ unsupported });
  });

  it('moves only surrogate code units of an input', () => {
    expect(toLinearInput('plain é')).toBe('plain é');
    expect([...toLinearInput('😀')].map((c) => c.codePointAt(0))).toEqual([0x10f83d, 0x10fe00]);
  });
});
