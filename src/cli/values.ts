/**
 * Reading values from the command line: variable values (JSON when it parses, else the text as a string),
 * `key=value` pairs and JSON options.
 * @module
 */
import { ValidationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { UsageError } from './cli-errors.js';
import type { CliIo } from './command.js';
import { jsonLine } from './output.js';
import { messageOf, withArticle } from '../printable.js';

/** The value argument that stands for stdin, as `-` does for `cat` and `kubectl -f`. */
const STDIN_VALUE = '-';

/** Whether a value argument stands for stdin ({@link valueText}). */
export const isStdinValue = (arg: string): boolean => arg === STDIN_VALUE;

/**
 * The text of a value argument: as given, or for {@link STDIN_VALUE} the whole of stdin as UTF-8 (a byte order mark
 * dropped), less one trailing newline (`echo 0.7 | tether var set temperature -` stores 0.7, a string piped in ends
 * where its last line does). Stdin has no length limit, where one argument is held to 128 KiB by the system. To
 * store the text `-`, quote it: `'"-"'`. An option that takes JSON (`--inputs`, `--spec`) reads a file so too, named
 * as `what` in its refusals.
 * @throws {UsageError} for `-` with nothing piped or redirected into stdin, or with stdin not UTF-8
 */
export async function valueText(
  arg: string,
  io: CliIo,
  command: readonly string[],
  what = 'the value',
): Promise<string> {
  if (!isStdinValue(arg)) return arg;
  if (io.readInput === undefined)
    throw new UsageError(`${what} '-' is read from stdin: pipe or redirect it there (< file)`, command);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await io.readInput());
  } catch {
    throw new UsageError(`${what} '-' is read from stdin, and stdin is not UTF-8 text`, command);
  }
  return text.replace(/\r?\n$/, '');
}

/** The variable types whose values are text, where `{name} says hi` is a value like any other. */
const TEXT_TYPES: ReadonlySet<string> = new Set(['string', 'choice', 'module']);

/** Whether `text` opens like a JSON object or list (so a failed parse is more likely a typo than a string). */
function opensLikeJson(text: string): boolean {
  return /^\s*[[{]/.test(text);
}

/** Whether `text` opens like a JSON object or list and does not parse: what {@link parseValue} needs a type for. */
export function looksLikeBrokenJson(text: string): boolean {
  if (!opensLikeJson(text)) return false;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/**
 * A number with no digit before its point (`.5`, `-.5`): not JSON, but a number to whoever typed it, and one the
 * command line's rule for negative numbers already takes as a value.
 */
const LEADING_DOT_NUMBER = /^\s*-?\.\d+(?:[eE][+-]?\d+)?\s*$/;

/**
 * Whether reading `text` as a value depends on the variable's type (see {@link parseValue}): broken JSON, or a
 * number written `.5`. `var set` looks the type up only then.
 */
export function needsVariableType(text: string): boolean {
  return looksLikeBrokenJson(text) || LEADING_DOT_NUMBER.test(text);
}

/**
 * A variable value as typed: `0.7`, `true`, `[1,2]` and `{"a":1}` are JSON; anything that does not parse
 * (`terse`, `hello world`) is the string itself. Quote a string that looks like JSON: `'"42"'`. Two kinds of text
 * are read by the variable's type (`type`): a number written `.5` or `-.5` is that number unless the variable holds
 * text; text that opens like a JSON object or list but does not parse is taken as text only for a variable of a
 * text type, and for any other type it is a typo, refused rather than stored as a string (`{"retries":4,}`).
 * @throws {UsageError} for broken JSON given to a variable that does not hold text
 */
export function parseValue(text: string, type: string, command: readonly string[]): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (TEXT_TYPES.has(type)) return text;
    if (LEADING_DOT_NUMBER.test(text)) return Number(text);
    if (!opensLikeJson(text)) return text;
    const why = messageOf(error);
    throw new UsageError(
      `the value for ${withArticle(type)} variable is not valid JSON: ${why} (quote it to store it as a string: '"..."')`,
      command,
    );
  }
}

/** A number as JSON writes it (a `.5` too, as {@link parseValue} reads it), at the position a scan is at. */
const NUMBER_AT = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;

/**
 * The numbers of a JSON text, outside its strings. Strings are skipped by a walk over their characters, not by a
 * regular expression: one backtracks once per character of a string, and a value of megabytes (stdin takes any
 * length) overflowed its stack.
 */
function* numbersIn(text: string): Generator<string> {
  for (let at = 0; at < text.length;) {
    const char = text[at];
    if (char === '"') {
      for (at++; at < text.length && text[at] !== '"'; at++) if (text[at] === '\\') at++;
      at++;
      continue;
    }
    NUMBER_AT.lastIndex = at;
    const number = NUMBER_AT.exec(text)?.[0];
    if (number === undefined) at++;
    else {
      yield number;
      at += number.length;
    }
  }
}

/**
 * Refuses a number a double cannot hold as written, anywhere in the value (a list's item, an object's member):
 * JSON.parse reads it as another number, which would be stored unnoticed.
 * - Too large (`1e400`): read as `Infinity`, which a float takes whatever its `min`/`max` (non-finite floats are
 *   stored on purpose). Infinity itself is written as the text `Infinity` (a string a float reads as Infinity).
 * - Too small (`1e-400`): read as 0.
 * - An integer past 2^53 that a double does not hold exactly (`12345678901234567890`, an id a script stores in a
 *   json variable): read as a neighbour of it. Digits past a double's precision after a decimal point are a float's
 *   ordinary rounding, and pass.
 * @throws {UsageError} naming the variable, the number as typed, and how to write what was meant
 */
export function assertNumbersReadAsWritten(text: string, name: string, command: readonly string[]): void {
  try {
    JSON.parse(text);
  } catch {
    if (!LEADING_DOT_NUMBER.test(text)) return;
  }
  for (const token of numbersIn(text)) {
    const read = Number(token);
    const problem = misreadOf(token, read);
    if (problem === undefined) continue;
    if (token === text.trim() && !Number.isFinite(read)) {
      const infinity = read > 0 ? 'Infinity' : `'"-Infinity"'`;
      throw new UsageError(
        `${name}: the number '${token}' is too large and would be read as ${read}; to store ${read}, write ` +
          `${infinity}, or quote it for text: '"${token}"'`,
        command,
      );
    }
    throw new UsageError(
      `${name}: the number '${token}' ${problem} and would be read as ${read}; quote it to keep it as written: ` +
        `'"${token}"'`,
      command,
    );
  }
}

/** What keeps the double `read` from `token` from being the number written, if anything does. */
function misreadOf(token: string, read: number): string | undefined {
  if (!Number.isFinite(read)) return 'is too large';
  if (read === 0) return /[1-9]/.test(token.split(/[eE]/)[0]!) ? 'is too small' : undefined;
  if (/^-?\d+$/.test(token) && !Number.isSafeInteger(read) && BigInt(token) !== BigInt(read))
    return 'has more digits than a double holds';
  return undefined;
}

/** The longest value text a refusal repeats: a longer one (a file piped in, say) would fill the error line. */
const MAX_ECHOED = 80;

/**
 * A node's refusal of a value read as JSON, naming the value as typed when its JSON form shows it otherwise
 * (`2.0` is read as 2, so `got 2` alone loses what was typed); refused as not a string (`123`, `true` for a string
 * variable), always, with how to store the text. A value read from stdin (`piped`), or longer than
 * {@link MAX_ECHOED}, is not repeated. Any other error is returned as it is.
 */
export function withTypedValue(error: unknown, text: string, value: unknown, piped = false): unknown {
  if (!(error instanceof ValidationError) || typeof value === 'string') return error;
  const notString = error.details.constraint === 'type' && /must be a string/.test(error.message);
  if (!notString && jsonLine(value) === text.trim()) return error;
  const echoed = !piped && text.length <= MAX_ECHOED;
  // Quoting gives back the text only when it needs no escape in JSON (a `"` or a backslash would change it) nor in
  // the shell's single quotes (a `'`); any other text is stored as it is with --text.
  const quotable = JSON.stringify(text) === `"${text}"` && !text.includes("'");
  const how = echoed && quotable ? `quote it: '"${text}"'` : 'give --text';
  const hint = notString ? `; to store it as text, ${how}` : '';
  const read = piped ? 'read from stdin as JSON' : echoed ? `typed '${text}', read as JSON` : 'read as JSON';
  return new ValidationError(`${error.message} (${read}${hint})`, {
    cause: error,
    details: error.details,
    ...(error.variable === undefined ? {} : { variable: error.variable }),
  });
}

/**
 * A JSON option (`--constraints`, `--inputs`, `--spec`), which must parse, with no number a double reads as another
 * (an id past 2^53 in `--inputs` would reach the module as its neighbour, as it would in a value); `what` names it in
 * the error.
 */
export function parseJsonOption(text: string, what: string, command: readonly string[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${messageOf(error)}`, command);
  }
  assertNumbersReadAsWritten(text, what, command);
  return value;
}

/** A JSON object option. */
export function parseJsonObject(text: string, what: string, command: readonly string[]): Record<string, unknown> {
  const value = parseJsonOption(text, what, command);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`${what} must be a JSON object`, command);
  return value as Record<string, unknown>;
}

/** `key=value` pairs, in order; the value is everything after the first `=` (it may contain more). */
export function parseAssignments(
  pairs: readonly string[],
  what: string,
  command: readonly string[],
): Record<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} takes key=value, got '${pair}'`, command);
    const key = pair.slice(0, eq);
    // The last one would win unseen, as a repeated --session would.
    if (out.has(key)) throw new UsageError(`${what} gives '${key}' twice`, command);
    out.set(key, pair.slice(eq + 1));
  }
  // Own properties whatever the key (`__proto__` assigned would set the object's prototype instead).
  return Object.fromEntries(out);
}

/**
 * A whole number option, such as `--expected-version` or `--replicas`, from `minimum` to `maximum` (at most 2^53-1,
 * past which a number is no longer exact). The refusal always states both ends, the top included: a value refused
 * for being past 2^53-1 is still "a whole number of at least 1". `alsoAccepted` names what the caller takes besides
 * (`-1 (for ever)`), for the message to say so too.
 */
export function parseCount(
  text: string,
  what: string,
  command: readonly string[],
  minimum = 0,
  maximum = Number.MAX_SAFE_INTEGER,
  alsoAccepted?: string,
): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
    const count = `a whole number from ${minimum} to ${maximum}`;
    const accepted = alsoAccepted === undefined ? count : `${alsoAccepted} or ${count}`;
    throw new UsageError(`${what} must be ${accepted}, got '${text}'`, command);
  }
  return value;
}

/**
 * A duration in milliseconds (`--timeout`, `--drain-timeout`): 1 to 2^31-1, the longest a Node timer waits (a
 * longer one fires at once, after a TimeoutOverflowWarning).
 */
export function parseMs(text: string, what: string, command: readonly string[]): number {
  return parseCount(text, what, command, 1, MAX_TIMEOUT_MS);
}

/**
 * A period in milliseconds (`--session-ttl`, `--hibernate-after`): 1 to 2^53-1, not bound by a timer's reach. Sweeps
 * check it, not one timer, so a period of months is kept as asked.
 */
export function parsePeriodMs(text: string, what: string, command: readonly string[]): number {
  return parseCount(text, what, command, 1);
}
