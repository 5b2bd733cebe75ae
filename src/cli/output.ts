/**
 * How commands print: one JSON document per line for scripts, short aligned lines for people.
 * @module
 */
import { UNPRINTABLE, unicodeEscape } from '../printable.js';
import type { VariableHistoryEntry } from '../session/variable-history.js';
import type { VariableRecord } from '../variables/types.js';

/**
 * JSON on one line. Non-finite floats are written as the strings the wire uses ("NaN", "Infinity",
 * "-Infinity"): `JSON.stringify` would silently turn them into `null`. What `JSON.stringify` leaves raw inside
 * strings (C1 controls, DEL, the line and paragraph separators) is escaped too: still the same JSON, but a value any
 * writer set can neither split the line for a reader that breaks at NEL or U+2028 nor reach a terminal as an escape
 * sequence.
 */
export function jsonLine(value: unknown): string {
  return escapedUnprintable(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ??
      'null',
  );
}

/**
 * Text any writer set (who locked, who wrote, why) for a line people read: as it is, or as a JSON string when it
 * holds a control character, a line break or a separator. Raw, a newline would break the line in two (and a
 * line-by-line script with it), and an escape sequence would reach the reader's terminal.
 */
export function shownText(text: string): string {
  return UNPRINTABLE.test(text) ? escapedUnprintable(JSON.stringify(text)) : text;
}

/**
 * A message for one stderr line: its line breaks, with the blanks around them, made one space, and whatever else is
 * unprintable written as its `\u` escape. A message may quote text another writer chose (a lock's owner, a
 * provider's words), which must neither split the line nor reach the terminal raw.
 */
export function oneLine(message: string): string {
  return escapedUnprintable(message.replace(/\s*\n\s*/g, ' ').trim());
}

/** `json` with each unprintable character written as its `\\u` escape. */
function escapedUnprintable(json: string): string {
  return json.replace(UNPRINTABLE_ALL, unicodeEscape);
}

const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g');

/** One variable for people: `temperature = 0.9  (float, v2)`, with its lock when it has one. */
export function recordLine(record: VariableRecord): string {
  const locked = record.lockedBy ? `, locked by ${shownText(record.lockedBy)}` : '';
  return `${record.name} = ${jsonLine(record.value)}  (${record.type}, v${record.version}${locked})`;
}

/**
 * Variables for people: one aligned row each, name, type, version, value, and `(locked by <owner>)` after the value
 * of a locked one (last, as the value's width varies: an unlocked row is as it always was).
 */
export function recordTable(records: readonly VariableRecord[]): string[] {
  const rows = records.map((r) => [r.name, r.type, `v${r.version}`, jsonLine(r.value)] as const);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows.map((row, n) => {
    const lockedBy = records[n]?.lockedBy;
    const line = row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ');
    return lockedBy ? `${line}  (locked by ${shownText(lockedBy)})` : line;
  });
}

/**
 * One kept version for people: `v2  0.9  2026-11-22T10:00:00.000Z  by alice  (tuning)`, without "by" or the reason
 * when none was recorded. The value as {@link jsonLine} writes it, so a NaN float reads as `var get` prints it.
 */
export function historyLine(entry: VariableHistoryEntry): string {
  const by = entry.updatedBy ? `  by ${shownText(entry.updatedBy)}` : '';
  const reason = entry.reason ? `  (${shownText(entry.reason)})` : '';
  return `v${entry.version}  ${jsonLine(entry.value)}  ${entry.updatedAt}${by}${reason}`;
}
