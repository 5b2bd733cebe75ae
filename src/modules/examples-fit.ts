/**
 * Whether few-shot examples fit one program's signature (see module-examples.ts for what examples are): every key a
 * field of it, and every value one Ax takes for its field. Apart from the shape check, as it loads Ax.
 * @module
 */
import { AxProgram } from '@ax-llm/ax';
import type { AxSignature } from '@ax-llm/ax';
import { messageOf } from '../printable.js';
import { show } from '../variables/failure.js';
import { checkExamplesShape, examplesRefusal, type ModuleExample } from './module-examples.js';

/**
 * Throws unless `examples` (shaped as {@link checkExamplesShape} wants) fit `signature`: every key is one of its
 * fields, and Ax takes every value for its field (a number for a `number` field, one of a class's options, …).
 * @throws {ValidationError} as {@link checkExamplesShape} does, naming the example and the field
 */
export function checkExamplesFit(examples: readonly ModuleExample[], signature: AxSignature): void {
  const fields = [...signature.getInputFields(), ...signature.getOutputFields()].map((field) => field.name);
  const known = new Set(fields);
  // A program of its own: Ax checks values as it takes them, and a generator's examples are not to be changed here.
  const probe = new AxProgram(signature);
  for (const [index, example] of examples.entries()) {
    for (const [key, value] of Object.entries(example)) {
      if (!known.has(key)) {
        throw examplesRefusal(`has no field '${key}' in the signature; its fields: ${fields.join(', ')}`, index, key);
      }
      try {
        probe.setExamples([{ [key]: value }] as never);
      } catch (cause) {
        throw examplesRefusal(`cannot take ${show(value)} for '${key}': ${messageOf(cause)}`, index, key, cause);
      }
    }
  }
}

/**
 * The check of the examples of one program of `signature`: {@link checkExamplesShape}, then {@link checkExamplesFit}.
 * A list that passed is not checked again, so a bound list costs its executions nothing.
 */
export function examplesCheck(signature: AxSignature): (value: unknown) => void {
  const passed = new WeakSet<object>();
  return (value) => {
    if (value === undefined || (typeof value === 'object' && value !== null && passed.has(value))) return;
    checkExamplesShape(value);
    checkExamplesFit(value as readonly ModuleExample[], signature);
    passed.add(value as object);
  };
}
