/**
 * Few-shot examples of a module: JSON objects whose keys are fields of its signature, which Ax renders as worked
 * exchanges before the real input (`setExamples`). They are a setting like `instructions` (a spec's key, a module's
 * option or a bound variable, re-read at every sync) so an optimizer that tunes them reaches every node. Checked in
 * two steps: their shape alone (any module, see {@link checkExamplesShape}), then against one program's signature
 * (see examples-fit.ts), where Ax's own check of each value runs too. Apart, so that what checks a spec's shape (the
 * remote client's checks among them) does not load Ax.
 * @module
 */
import { ValidationError } from '../errors.js';
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
export function examplesRefusal(problem: string, index?: number, key?: string, cause?: unknown): ValidationError {
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
  if (!Array.isArray(value)) throw examplesRefusal(`needs a list of examples, got ${show(value)}`);
  if (value.length > MAX_EXAMPLES) throw examplesRefusal(`takes at most ${MAX_EXAMPLES} examples, got ${value.length}`);
  for (const [index, example] of value.entries()) {
    if (!isPlainObject(example)) throw examplesRefusal(`needs an object of fields, got ${show(example)}`, index);
    for (const [key, field] of Object.entries(example)) {
      const problem = jsonProblem(field);
      if (problem !== undefined) throw examplesRefusal(problem, index, key);
    }
  }
  checkedShapes.add(value);
}
