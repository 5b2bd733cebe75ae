/**
 * `json` output fields as the value their JSON text gives, whatever the answer's form. A structured (JSON) answer
 * carries such a field as a string that must parse. Ax parses it when the signature itself asks for structured output
 * (an `object` field), and into a value when the answer is text, but a provider that requires structured output for
 * every signature (the offline `tether-echo` included) got the text back: code written against the offline model
 * read `'{"a":1}'` where a real provider gave `{ a: 1 }`.
 * @module
 */
import type { FieldValues } from './module-types.js';
import type { OutputField } from './structured-dates.js';

/** The names of the scalar `json` fields among `fields` (a list of them is left to Ax, as for dates). */
export function jsonOutputFields(fields: readonly OutputField[]): readonly string[] {
  return fields.flatMap((field) => (field.type?.name === 'json' && field.type.isArray !== true ? [field.name] : []));
}

/**
 * Whether Ax leaves the `json` fields of an answer to `signature` as their JSON text: the answer is structured because
 * the provider (as `features` describe it for the execution's model) requires it, not because the signature has an
 * `object` field, where Ax parses them itself.
 */
export function leavesJsonText(
  signature: { hasComplexFields(): boolean },
  features: { readonly requiresStructuredOutput?: boolean } | undefined,
): boolean {
  return features?.requiresStructuredOutput === true && !signature.hasComplexFields();
}

/**
 * `result` with each of `fields` that is still JSON text parsed into its value; text that does not parse stays as it
 * is. Asked only of a structured answer that Ax left as text: in a text answer, a field that is a string is the string
 * the model wrote. `result` itself is not changed.
 */
export function withParsedJson(result: FieldValues, fields: readonly string[]): FieldValues {
  let parsed: Record<string, unknown> | undefined;
  for (const name of fields) {
    const value = result[name];
    if (typeof value !== 'string') continue;
    let data: unknown;
    try {
      data = JSON.parse(value);
    } catch {
      continue;
    }
    parsed ??= { ...result };
    parsed[name] = data;
  }
  return parsed ?? result;
}
