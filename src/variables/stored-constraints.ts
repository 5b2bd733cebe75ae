/**
 * The constraints of records read back from a store, checked as a definition checks them (but for the rules only new
 * definitions are held to: see `validateStoredConstraints`), once per variable rather than once per record. Every
 * change a node watches is a fresh parse of its record, constraints included, while a variable's constraints are fixed
 * at its definition: normalising them for each change would build a `json` shape's enum table (json-shape-enums.ts,
 * kept per normalised shape) anew for every write of the variable.
 * @module
 */
import { validateStoredConstraints } from './constraints.js';
import type { Constraints, VariableType } from './types.js';

/** Checks the constraints of a stored record of variable `id`; see {@link createStoredConstraints}. */
export type StoredConstraints = (id: string, type: VariableType, raw: unknown, variable: string) => Constraints;

/** Variables whose checked constraints are kept: past this many, the one first kept is dropped (and checked again). */
export const STORED_CONSTRAINTS_KEPT = 4096;

interface Checked {
  readonly type: VariableType;
  readonly raw: unknown;
  readonly constraints: Constraints;
}

/**
 * A checker of stored constraints, keeping for each variable id (up to {@link STORED_CONSTRAINTS_KEPT} of them) the
 * normalised, frozen constraints `validateStoredConstraints` returned. A record of the same id, type and equal
 * constraints gets them again: the same object, so what is kept per normalised shape stays built. Anything else is
 * checked afresh, so a record written around the nodes cannot pass under another's constraints by reusing its id.
 * Throws the `ValidationError` of `validateStoredConstraints`, naming `variable`.
 * @example
 * const check = createStoredConstraints();
 * check('id-1', 'float', { min: 0, max: 1 }, 'temp') === check('id-1', 'float', { min: 0, max: 1 }, 'temp') // true
 */
export function createStoredConstraints(): StoredConstraints {
  const kept = new Map<string, Checked>();
  return (id, type, raw, variable) => {
    const known = kept.get(id);
    if (known !== undefined && known.type === type && sameJson(known.raw, raw)) return known.constraints;
    const constraints = validateStoredConstraints(type, raw, variable);
    kept.delete(id);
    if (kept.size >= STORED_CONSTRAINTS_KEPT) kept.delete(kept.keys().next().value as string);
    kept.set(id, { type, raw, constraints });
    return constraints;
  };
}

/**
 * Whether two values parsed from JSON are equal: scalars by value, arrays item by item, objects by their entries in any
 * order. (`isDeepStrictEqual` of node:util, which also weighs prototypes and symbols, took ten times as long.)
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  const other = b as Record<string, unknown>;
  return keys.every((key) => Object.hasOwn(other, key) && sameJson((a as Record<string, unknown>)[key], other[key]));
}
