/**
 * Few-shot examples of a module: JSON objects whose keys are fields of its signature, which Ax renders as worked
 * exchanges before the real input (`setExamples`). They are a setting like `instructions` (a spec's key, a module's
 * option or a bound variable, re-read at every sync) so an optimizer that tunes them reaches every node. Checked in
 * two steps: their shape alone (any module, see {@link checkExamplesShape}), then against one program's signature
 * (see {@link checkExamplesFit}), where Ax's own check of each value runs too.
 * @module
 */
import { AxProgram } from '@ax-llm/ax';
import type { AxSignature } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { show } from '../variables/failure.js';

/** The most examples a module takes: each is two messages of every request it sends. */
export const MAX_EXAMPLES = 64;

/** How deep a value of an example may nest: far past any useful example, short of a stack overflow. */
const MAX_DEPTH = 32;

/** One few-shot example: some fields of the signature (inputs and outputs), each with a JSON value. */
export type ModuleExample = Readonly<Record<string, unknown>>;

/** Lists whose shape was checked: a bound list is checked once, not at every execution that sends it. */
const checkedShapes = new WeakSet<object>();

/** Builds the refusal of example `index` (its field `key`, when one is to blame) with what is wrong. */
function refusal(problem: string, index?: number, key?: string, cause?: unknown): ValidationError {
  const where = index === undefined ? '' : key === undefined ? ` (example ${index})` : ` (example ${index}, '${key}')`;
  return new ValidationError(`attribute 'examples' ${problem}${where}`, {
    ...(cause === undefined ? {} : { cause }),
    details: {
      field: 'examples',
      problem,
      ...(index === undefined ? {} : { index }),
      ...(key === undefined ? {} : { exampleField: key }),
    },
  });
}

/** Whether `value` is an object literal (or `JSON.parse`'s), not a list, a class instance or a `Date`. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What keeps `value` from being JSON (a function, NaN, a `Date`, …), or `undefined` when it is JSON. */
function jsonProblem(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `needs JSON values, got ${show(value)}`;
  if (depth >= MAX_DEPTH) return `nests deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `needs JSON values, got ${show(value)}`;
  for (const item of Object.values(value)) {
    const problem = jsonProblem(item, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Throws unless `value` is `undefined` (none) or a list of at most {@link MAX_EXAMPLES} plain objects of JSON values:
 * what every module can take, before its signature is looked at.
 * @throws {ValidationError} with `details.field: 'examples'`, the example's `index` and `exampleField` when one is to
 *   blame, and `problem`
 */
export function checkExamplesShape(value: unknown): void {
  if (value === undefined || (typeof value === 'object' && value !== null && checkedShapes.has(value))) return;
  if (!Array.isArray(value)) throw refusal(`needs a list of examples, got ${show(value)}`);
  if (value.length > MAX_EXAMPLES) throw refusal(`takes at most ${MAX_EXAMPLES} examples, got ${value.length}`);
  for (const [index, example] of value.entries()) {
    if (!isPlainObject(example)) throw refusal(`needs an object of fields, got ${show(example)}`, index);
    for (const [key, field] of Object.entries(example)) {
      const problem = jsonProblem(field);
      if (problem !== undefined) throw refusal(problem, index, key);
    }
  }
  checkedShapes.add(value);
}

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
        throw refusal(`has no field '${key}' in the signature; its fields: ${fields.join(', ')}`, index, key);
      }
      try {
        probe.setExamples([{ [key]: value }] as never);
      } catch (cause) {
        throw refusal(`cannot take ${show(value)} for '${key}': ${messageOf(cause)}`, index, key, cause);
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
