/**
 * A `Date` given to a date-typed input field, as the text Ax 24 writes into the prompt for it (`processValue` in its
 * `dsp/prompt.ts`): a `date` as `1970-01-01`, a `datetime` as `1970-01-01T00:00:00Z`, a range of two `Date`s as the
 * JSON of `{ start, end }` so written. Ax takes that text, given instead of the `Date`, as it is, so the prompt is
 * the same. A remote handle sends it (see remote-input-check.ts): JSON would have sent the `Date` as
 * `1970-01-01T00:00:00.000Z`, which the node's program, seeing text, wrote into the prompt unchanged.
 * @module
 */

/** The Ax field types whose `Date` values Ax formats, and how. */
const WRITERS: Readonly<Record<string, (value: unknown) => string | undefined>> = {
  date: (value) => (value instanceof Date ? dayOf(value) : undefined),
  datetime: (value) => (value instanceof Date ? instantOf(value) : undefined),
  dateRange: (value) => rangeOf(value, dayOf),
  datetimeRange: (value) => rangeOf(value, instantOf),
};

/** Whether Ax formats a `Date` given to a field of `type` (a scalar one: Ax formats no `Date` inside a list). */
export function writesDates(type: string | undefined, isArray: boolean): boolean {
  return !isArray && type !== undefined && Object.hasOwn(WRITERS, type);
}

/** `value`, given to a field of `type`, as Ax writes it when it is a `Date` (or range of them); otherwise `value`. */
export function dateAsWritten(type: string, value: unknown): unknown {
  return WRITERS[type]?.(value) ?? value;
}

/** Ax's `date`: the UTC day. */
function dayOf(date: Date): string {
  const iso = date.toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

/**
 * Ax's `datetime` without `Temporal` (which Node 20 lacks, and with which Ax keeps milliseconds that are not 0): the
 * UTC instant to the second.
 */
function instantOf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Ax's range: `{ start, end }` of two `Date`s, each written by `write`, as indented JSON. */
function rangeOf(value: unknown, write: (date: Date) => string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { start, end } = value as { start?: unknown; end?: unknown };
  if (!(start instanceof Date) || !(end instanceof Date)) return undefined;
  return JSON.stringify({ start: write(start), end: write(end) }, null, 2);
}
