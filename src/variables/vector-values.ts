/**
 * `embedding` and `tensor` values: numeric arrays that must be finite, because JSON cannot carry `NaN` or
 * `Infinity` inside an array and a vector holding one is almost always a bug upstream.
 * @module
 */
import { fail, show } from './failure.js';
import { isPlainObject, MAX_JSON_DEPTH } from './json-value.js';
import type { EmbeddingConstraints, TensorConstraints, TensorValue } from './types.js';

/**
 * The list-likes a vector may arrive as: arrays, and numeric typed arrays (`Float32Array` is what embedding
 * clients hand out). BigInt arrays and `DataView` are not lists of numbers.
 */
function asList(value: unknown): ArrayLike<unknown> | undefined {
  if (Array.isArray(value)) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) return undefined;
    return value as unknown as ArrayLike<number>;
  }
  return undefined;
}

/**
 * Validates an `embedding`: a list of finite numbers, exactly `dimensions` long when that is set. Returns a
 * frozen plain array (a typed array input is copied out, so the caller's buffer can change freely).
 * @example
 * validateEmbedding(new Float32Array([0.1, 0.2]), { dimensions: 2 }, 'query')
 */
export function validateEmbedding(
  value: unknown,
  constraints: EmbeddingConstraints,
  variable: string,
): readonly number[] {
  const list = asList(value);
  if (list === undefined) return fail(variable, `must be a numeric list, got ${show(value)}`, { constraint: 'type' });
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'number' || !Number.isFinite(item)) {
      return fail(variable, `must be a list of numbers, got ${show(item)} at index ${i}`, {
        constraint: 'type',
        index: i,
      });
    }
    out[i] = item + 0;
  }
  const { dimensions } = constraints;
  if (dimensions !== undefined && out.length !== dimensions) {
    fail(variable, `must have exactly ${dimensions} dimensions, got ${out.length}`, {
      constraint: 'dimensions',
      dimensions,
    });
  }
  return Object.freeze(out);
}

const TENSOR_KEYS = new Set(['shape', 'data']);
const NOT_A_TENSOR = 'must be a tensor with shape and data';

/**
 * Validates a `tensor`: `{ shape, data }` where `shape` lists non-negative integers and `data` holds finite
 * numbers, flat or nested; nesting is flattened in row-major order, and the flattened length must equal the
 * product of `shape` (DSPex's check; the nesting itself is not compared with `shape`). A `shape` constraint
 * must match dimension by dimension, `null` accepting any size. Unknown keys (`dtype`) are refused rather than
 * dropped, so nothing the caller sent disappears silently.
 * @example
 * validateTensor({ shape: [2, 2], data: [[1, 2], [3, 4]] }, { shape: [null, 2] }, 'weights')
 * // { shape: [2, 2], data: [1, 2, 3, 4] }
 */
export function validateTensor(value: unknown, constraints: TensorConstraints, variable: string): TensorValue {
  if (!isPlainObject(value) || !('shape' in value) || !('data' in value)) {
    return fail(variable, `${NOT_A_TENSOR}, got ${show(value)}`, { constraint: 'type' });
  }
  const extra = Object.keys(value).filter((key) => !TENSOR_KEYS.has(key));
  if (extra.length > 0) {
    return fail(variable, `${NOT_A_TENSOR}; unexpected key '${extra[0]}'`, { constraint: 'type' });
  }
  const shape = readShape(value.shape, variable);
  if (asList(value.data) === undefined) {
    return fail(variable, `${NOT_A_TENSOR}; data must be a list, got ${show(value.data)}`, { constraint: 'type' });
  }
  const data: number[] = [];
  flatten(value.data, 0, data, variable);
  // A 0 anywhere holds no values: the product of the sizes before it may have overflowed to Infinity, and
  // Infinity × 0 is NaN, which no length equals.
  const expected = shape.includes(0) ? 0 : shape.reduce((product, size) => product * size, 1);
  if (expected !== data.length) {
    const needs = `shape ${formatShape(shape)} needs ${expected} values, got ${data.length}`;
    fail(variable, `data size doesn't match shape: ${needs}`, { constraint: 'type' });
  }
  checkShapeConstraint(shape, constraints.shape, variable);
  return Object.freeze({ shape: Object.freeze(shape), data: Object.freeze(data) });
}

/** A copy of `shape` when it lists non-negative safe integers; otherwise fails naming the first bad entry. */
function readShape(shape: unknown, variable: string): number[] {
  const bad = (got: string): never =>
    fail(variable, `${NOT_A_TENSOR}; shape must be a list of non-negative integers, got ${got}`, {
      constraint: 'type',
    });
  const list = asList(shape);
  if (list === undefined) return bad(show(shape));
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const size = list[i];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return bad(`${show(size)} at index ${i}`);
    out.push(size + 0);
  }
  return out;
}

/** Appends the leaves of `data` in row-major order; depth-bounded, which also stops an array that contains itself. */
function flatten(data: unknown, depth: number, out: number[], variable: string): void {
  const list = asList(data);
  if (list === undefined) {
    if (typeof data === 'number' && Number.isFinite(data)) {
      out.push(data + 0);
      return;
    }
    fail(variable, `${NOT_A_TENSOR}; data must hold only finite numbers, got ${show(data)}`, { constraint: 'type' });
  }
  if (depth >= MAX_JSON_DEPTH) {
    fail(variable, `${NOT_A_TENSOR}; data is nested deeper than ${MAX_JSON_DEPTH} levels`, { constraint: 'type' });
  }
  for (let i = 0; i < list.length; i++) flatten(list[i], depth + 1, out, variable);
}

/** Dimension-by-dimension match against the constraint, with DSPex's "shape must be ..." message. */
function checkShapeConstraint(shape: readonly number[], expected: TensorConstraints['shape'], variable: string): void {
  if (expected === undefined) return;
  const matches = shape.length === expected.length && expected.every((size, i) => size === null || size === shape[i]);
  if (!matches) {
    fail(variable, `shape must be ${formatShape(expected)}, got ${formatShape(shape)}`, {
      constraint: 'shape',
      shape: [...expected],
    });
  }
}

/** `[2, null, 3]`: the same form the user wrote the constraint in. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((size) => (size === null ? 'null' : String(size))).join(', ')}]`;
}
