/**
 * `date` and `datetime` output fields as `Date`s whatever the answer's form. Ax parses a text answer's into `Date`s
 * but takes a structured (JSON) answer's text as it is (its check of such a field accepts a string), and structured
 * is how the offline `tether-echo`, and any provider that requires it, answers: code written against the offline
 * model got `'1970-01-01'` where a real provider gave a `Date`.
 * @module
 */
import type { FieldValues } from './module-types.js';

/** An output field as Ax's signature describes it. */
export interface OutputField {
  readonly name: string;
  readonly type?: { readonly name?: string; readonly isArray?: boolean } | undefined;
}

/** A scalar `date` or `datetime` output field. */
export interface DateField {
  readonly name: string;
  readonly type: string;
}

/** Ax's `date`: a UTC day; its `datetime`: an ISO 8601 instant with a zone, as Ax asks the model for them. */
const FORMATS: Readonly<Record<string, RegExp>> = {
  date: /^\d{4}-\d{2}-\d{2}$/,
  datetime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/,
};

/**
 * The names of the scalar `date` and `datetime` fields among `fields` (Ax gives no `Date` inside a list, whatever the
 * answer's form).
 */
export function dateOutputFields(fields: readonly OutputField[]): readonly DateField[] {
  return fields.flatMap((field) => {
    const type = field.type?.name ?? '';
    return field.type?.isArray !== true && Object.hasOwn(FORMATS, type) ? [{ name: field.name, type }] : [];
  });
}

/**
 * `result` with each field that {@link dateOutputFields} names, still text in the form Ax asks for, as the `Date` a
 * text answer would have given (a `date` at midnight UTC); anything else as it is. `result` itself is not changed.
 */
export function withOutputDates(result: FieldValues, fields: readonly DateField[]): FieldValues {
  let revived: Record<string, unknown> | undefined;
  for (const { name, type } of fields) {
    const value = result[name];
    if (typeof value !== 'string') continue;
    const text = value.trim();
    if (!FORMATS[type]!.test(text)) continue;
    const date = new Date(type === 'date' ? `${text}T00:00:00.000Z` : text);
    if (Number.isNaN(date.getTime())) continue;
    revived ??= { ...result };
    revived[name] = date;
  }
  return revived ?? result;
}
