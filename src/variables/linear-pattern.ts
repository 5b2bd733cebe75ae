/**
 * Rewrites a JS RegExp source (no flags) into an RE2 pattern that means exactly the same thing, so it can run
 * on a linear-time engine. JS without the `u` flag matches UTF-16 code units, RE2 matches code points, and the
 * two syntaxes give some spellings different meanings (`.`, `\s`, `\A`, `\pL`, `[[:alpha:]]`, `a{01}`). So
 * nothing is passed through as text: every literal is re-emitted as a `\x{..}` escape, `.` and `\s` become
 * the explicit sets JS uses, and every surrogate code unit is moved to a rune of its own (see
 * {@link toLinearInput}), which makes "one code unit" and "one rune" the same thing on both sides.
 * Constructs that need backtracking (backreferences, lookarounds) have no such rewrite and are refused.
 * The source must already be a valid JS RegExp: this walks it, it does not check it.
 * @module
 */

/** The rewritten pattern, or why there is none. */
export type LinearPattern = { readonly re2: string } | { readonly unsupported: string };

/** The largest repeat count RE2 accepts; checked here so the message names the count as the user wrote it. */
export const MAX_REPEAT = 1000;

/**
 * The most all of a pattern's counts may add up to. RE2 builds a copy of the repeated part per count before its
 * program size can be checked: a short source of many `{1000}` compiled to half a million instructions, in
 * 200 ms and 85 MB, only to be refused as too large.
 */
export const MAX_REPEAT_TOTAL = 2048;

// Surrogate code units D800–DFFF are moved to the last 2048 code points. Nothing else can land there: a real
// character of that range is astral, so it is a surrogate pair in a JS string and is moved unit by unit.
const SURROGATE_FIRST = 0xd800;
const SURROGATE_LAST = 0xdfff;
const MOVED_FIRST = 0x10f800;
const SURROGATES = /[\ud800-\udfff]/g;

/**
 * The input a {@link LinearPattern} is tested against: `value` with each surrogate code unit (paired or lone)
 * moved to its own rune, as the pattern's were.
 */
export function toLinearInput(value: string): string {
  return value.replace(SURROGATES, (unit) => String.fromCodePoint(MOVED_FIRST + unit.charCodeAt(0) - SURROGATE_FIRST));
}

/** A closed range of code units. */
type Range = readonly [from: number, to: number];

/** The rewrite of one class item: ranges of code units, or an RE2 Perl class that means the same (`\d`, `\w`). */
type ClassItem = { readonly ranges: readonly Range[] } | { readonly perl: string };

const LINE_TERMINATORS: readonly Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

// JS `\s` follows the engine's Unicode tables; asking the engine keeps the rewrite exact on any Node version.
let whitespace: readonly Range[] | undefined;
function jsWhitespace(): readonly Range[] {
  if (whitespace) return whitespace;
  const ranges: [number, number][] = [];
  for (let unit = 0; unit <= 0xffff; unit++) {
    if (!/\s/.test(String.fromCharCode(unit))) continue;
    const last = ranges.at(-1);
    if (last && last[1] === unit - 1) last[1] = unit;
    else ranges.push([unit, unit]);
  }
  return (whitespace = ranges);
}

/** Every code unit outside `ranges` (which are sorted and disjoint). */
function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

const rune = (unit: number): number =>
  unit >= SURROGATE_FIRST && unit <= SURROGATE_LAST ? unit - SURROGATE_FIRST + MOVED_FIRST : unit;
const hex = (unit: number): string => `\\x{${rune(unit).toString(16)}}`;

/** RE2 text for code-unit ranges, split where they cross the moved surrogates. */
function rangesText(ranges: readonly Range[]): string {
  let text = '';
  for (const [from, to] of ranges) {
    const pieces: Range[] = [
      [from, Math.min(to, SURROGATE_FIRST - 1)],
      [Math.max(from, SURROGATE_FIRST), Math.min(to, SURROGATE_LAST)],
      [Math.max(from, SURROGATE_LAST + 1), to],
    ];
    for (const [a, b] of pieces) if (a <= b) text += a === b ? hex(a) : `${hex(a)}-${hex(b)}`;
  }
  return text;
}

const literal = (unit: number): string =>
  /^[0-9A-Za-z]$/.test(String.fromCharCode(unit)) ? String.fromCharCode(unit) : hex(unit);
// Sticky, so it reads the count at one place only; JS takes `{` as a count only in this exact form (Annex B).
const BRACED_REPEAT = /\{(\d+)(?:(,)(\d*))?\}/y;
const CONTROL_ESCAPES: Readonly<Partial<Record<string, number>>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };
const NOTHING = '[^\\x00-\\x{10ffff}]';
const ANYTHING = '[\\x00-\\x{10ffff}]';

/**
 * Rewrites `source` (a valid JS RegExp source, no flags) for RE2, or says which construct has no linear-time
 * equivalent. Capturing and named groups become non-capturing: only match or no match is asked.
 * @example
 * toLinearPattern('^[a-z]+$')   // { re2: '^[\\x{61}-\\x{7a}]+$' }
 * toLinearPattern('(a)\\1')     // { unsupported: 'backreference or octal escape \\1' }
 */
export function toLinearPattern(source: string): LinearPattern {
  let i = 0;
  let out = '';
  let repeatTotal = 0;
  const unsupported = (what: string): LinearPattern => ({ unsupported: what });
  const unit = (at: number): number => source.charCodeAt(at);
  const isHex = (at: number, count: number): boolean =>
    at + count <= source.length && /^[0-9A-Fa-f]+$/.test(source.slice(at, at + count));

  /**
   * The character escapes shared by both contexts, at `source[i]` just after the backslash: the code unit it
   * stands for and how many source characters it used, or a reason it is refused.
   */
  const characterEscape = (inClass: boolean): { unit: number; length: number } | { refused: string } => {
    const c = source[i] ?? '';
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return { unit: control, length: 1 };
    if (c === '0' && !/[0-9]/.test(source[i + 1] ?? '')) return { unit: 0, length: 1 };
    if (/[0-9]/.test(c)) return { refused: `backreference or octal escape \\${c}` };
    if (c === 'x' && isHex(i + 1, 2)) return { unit: parseInt(source.slice(i + 1, i + 3), 16), length: 3 };
    if (c === 'u' && isHex(i + 1, 4)) return { unit: parseInt(source.slice(i + 1, i + 5), 16), length: 5 };
    if (c === 'c') {
      const next = source[i + 1] ?? '';
      if (/[A-Za-z]/.test(next) || (inClass && /[0-9_]/.test(next))) return { unit: unit(i + 1) % 32, length: 2 };
      // Annex B: a `\c` not followed by a control letter is a literal backslash; the `c` is read again.
      return { unit: 0x5c, length: 0 };
    }
    if (c === 'k' && !inClass) return { refused: 'named backreference \\k' };
    return { unit: unit(i), length: 1 };
  };

  /** One class atom at `source[i]`: the item and whether it is a single code unit (a possible range end). */
  const classAtom = (): { item: ClassItem; single?: number } | { refused: string } => {
    if (source[i] !== '\\') {
      const u = unit(i++);
      return { item: { ranges: [[u, u]] }, single: u };
    }
    i++;
    const c = source[i] ?? '';
    if (c === 'd' || c === 'D' || c === 'w' || c === 'W') {
      i++;
      return { item: { perl: `\\${c}` } };
    }
    if (c === 's' || c === 'S') {
      i++;
      return { item: { ranges: c === 's' ? jsWhitespace() : complement(jsWhitespace()) } };
    }
    if (c === 'b') {
      i++;
      return { item: { ranges: [[0x08, 0x08]] }, single: 0x08 };
    }
    const escape = characterEscape(true);
    if ('refused' in escape) return escape;
    i += escape.length;
    return { item: { ranges: [[escape.unit, escape.unit]] }, single: escape.unit };
  };

  /** A class from `source[i]` (just after `[`) through its `]`. */
  const characterClass = (): string | { refused: string } => {
    const negated = source[i] === '^';
    if (negated) i++;
    if (source[i] === ']') {
      i++;
      return negated ? ANYTHING : NOTHING;
    }
    let text = '';
    const add = (item: ClassItem): void => {
      text += 'perl' in item ? item.perl : rangesText(item.ranges);
    };
    while (i < source.length && source[i] !== ']') {
      const first = classAtom();
      if ('refused' in first) return first;
      // A dash between two single characters makes a range; next to a set like \d it is literal (Annex B).
      if (source[i] === '-' && source[i + 1] !== ']' && i + 1 < source.length) {
        const dash = i++;
        const second = classAtom();
        if ('refused' in second) return second;
        if (first.single !== undefined && second.single !== undefined) {
          add({ ranges: [[first.single, second.single]] });
        } else {
          add(first.item);
          add({ ranges: [[unit(dash), unit(dash)]] });
          add(second.item);
        }
        continue;
      }
      add(first.item);
    }
    i++;
    return `[${negated ? '^' : ''}${text}]`;
  };

  while (i < source.length) {
    const c = source[i] ?? '';
    if (c === '\\') {
      i++;
      const e = source[i] ?? '';
      if ('bBdDwW'.includes(e)) {
        out += `\\${e}`;
        i++;
      } else if (e === 's' || e === 'S') {
        out += `[${e === 'S' ? '^' : ''}${rangesText(jsWhitespace())}]`;
        i++;
      } else {
        const escape = characterEscape(false);
        if ('refused' in escape) return unsupported(escape.refused);
        out += literal(escape.unit);
        i += escape.length;
      }
    } else if (c === '[') {
      i++;
      const text = characterClass();
      if (typeof text !== 'string') return unsupported(text.refused);
      out += text;
    } else if (c === '(') {
      if (source[i + 1] !== '?') {
        out += '(?:';
        i++;
      } else if (source[i + 2] === ':') {
        out += '(?:';
        i += 3;
      } else if (source[i + 2] === '=' || source[i + 2] === '!') {
        return unsupported(`lookahead (?${source[i + 2]}`);
      } else if (source[i + 2] === '<' && (source[i + 3] === '=' || source[i + 3] === '!')) {
        return unsupported(`lookbehind (?<${source[i + 3]}`);
      } else if (source[i + 2] === '<') {
        out += '(?:';
        i = source.indexOf('>', i) + 1;
      } else {
        return unsupported(`group modifiers (?${source[i + 2] ?? ''}`);
      }
    } else if (c === '{') {
      BRACED_REPEAT.lastIndex = i;
      const repeat = BRACED_REPEAT.exec(source);
      if (repeat) {
        const [whole, low = '', comma, high] = repeat;
        const counts = [low, high].filter((n): n is string => n !== undefined && n !== '').map(Number);
        if (counts.some((n) => n > MAX_REPEAT)) {
          return unsupported(`repeat count ${whole} (the most is ${MAX_REPEAT})`);
        }
        repeatTotal += Math.max(0, ...counts);
        if (repeatTotal > MAX_REPEAT_TOTAL) {
          return unsupported(`repeat counts adding up to more than ${MAX_REPEAT_TOTAL}`);
        }
        // Re-emitted from numbers: RE2 reads `{01}` as literal text where JS reads a count of one.
        out += `{${counts[0]}${comma ?? ''}${high ? counts[1] : ''}}`;
        i += whole.length;
      } else {
        out += literal(unit(i++));
      }
    } else if (c === '.') {
      out += `[^${rangesText(LINE_TERMINATORS)}]`;
      i++;
    } else if ('^$|)*+?'.includes(c)) {
      out += c;
      i++;
    } else {
      out += literal(unit(i++));
    }
  }
  return { re2: out };
}
