/**
 * Reading values from the command line: variable values (JSON when it parses, else the text as a string),
 * `key=value` pairs and JSON options.
 * @module
 */
import { UsageError } from './cli-errors.js';

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
 * A variable value as typed: `0.7`, `true`, `[1,2]` and `{"a":1}` are JSON; anything that does not parse
 * (`terse`, `hello world`) is the string itself. Quote a string that looks like JSON: `'"42"'`. Text that opens
 * like a JSON object or list but does not parse is taken as text only for a variable of a text type (`type`);
 * for any other type it is a typo, refused rather than stored as a string (`{"retries":4,}`).
 * @throws {UsageError} for broken JSON given to a variable that does not hold text
 */
export function parseValue(text: string, type: string, command: readonly string[]): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (TEXT_TYPES.has(type) || !opensLikeJson(text)) return text;
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `the value for a ${type} variable is not valid JSON: ${why} (quote it to store it as a string: '"..."')`,
      command,
    );
  }
}

/** A JSON option (`--constraints`, `--json`, `--spec`), which must parse; `what` names it in the error. */
export function parseJsonOption(text: string, what: string, command: readonly string[]): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      command,
    );
  }
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
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} takes key=value, got '${pair}'`, command);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** A whole number option, such as `--expected-version` or `--timeout`. */
export function parseCount(text: string, what: string, command: readonly string[], minimum = 0): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
    throw new UsageError(
      `${what} must be a whole number${minimum > 0 ? ` of at least ${minimum}` : ''}, got '${text}'`,
      command,
    );
  }
  return value;
}
