/**
 * Any value as text for a message, without throwing. `String(value)` throws for some values a user can hand over
 * (an object without a prototype, one whose `toString` throws, a revoked proxy), and the messages built from them are
 * built on error paths, where a throw skips the rest of the handling: a crash reason that cannot be printed once left
 * the callers of the crashed process waiting for ever.
 * @module
 */

/** `String(value)`, or, for a value that cannot be converted, its `Object.prototype.toString` tag (`[object Object]`). */
export function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      // A revoked proxy: not even its tag can be read.
      return '[unprintable value]';
    }
  }
}

/** An `Error`'s message, or any other thrown value as {@link printable} prints it. */
export function messageOf(thrown: unknown): string {
  try {
    if (!(thrown instanceof Error)) return printable(thrown);
    // A message is a string unless someone assigned another value to it.
    return typeof thrown.message === 'string' ? thrown.message : printable(thrown.message);
  } catch {
    // A proxy whose prototype cannot be read (`instanceof` asks it), or an error whose `message` getter throws.
    return printable(thrown);
  }
}

/** A word with its indefinite article, as a message reads it: `a string`, `an integer`, `an Error`. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional embeddings, overrides and
 * isolates: what must not reach a line people or scripts read raw. A separator splits the line for a reader that
 * breaks at it, a control reaches a terminal as an escape sequence, and an override (U+202E) shows the rest of the
 * line reversed, so a value could make `by alice` read as another writer (the "Trojan Source" trick). The marks
 * that only lean one character (U+200E, U+200F, U+061C) are kept: right-to-left text uses them and they reorder
 * nothing past it. `JSON.stringify` escapes only the C0 ones.
 */
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * `text` in printable ASCII, every other UTF-16 code unit as a `\uXXXX` escape (`Zoë` as `Zo\u00eb`, an emoji as its
 * two halves), as JSON writes them: for a NATS header value, which clients in other languages read only as ASCII.
 */
export function asciiEscaped(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, unicodeEscape);
}

/** One UTF-16 code unit as JSON escapes it: `\u00eb`. */
export function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A code point as Unicode names it in text: `U+000A`. */
export function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first `max` UTF-16 code units of `text`, or one fewer where the last would be the first half of a surrogate
 * pair: a cut never leaves half an emoji, which a terminal shows as U+FFFD and a strict UTF-8 reader refuses.
 * @example
 * cutText('a😀b', 2) // 'a'
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
