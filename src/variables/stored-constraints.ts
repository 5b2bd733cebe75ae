/**
 * The constraints of records read back from a store, checked as a definition checks them (but for the rules only new
 * definitions are held to: see `validateStoredConstraints`), once per variable rather than once per record. Every
 * change a node watches is a fresh parse of its record, constraints included, while a variable's constraints are fixed
 * at its definition: normalising them for each change would build a `json` shape's enum table (json-shape-enums.ts,
 * kept per normalised shape) anew for every write of the variable.
 *
 * What is kept is bounded in bytes as well as in variables, since a node's router reads the records of every session
 * of the bucket, served on the node or not, and a `choice` or `enum` may list thousands of options: 4096 such
 * variables could take gigabytes. The budget, {@link STORED_CONSTRAINTS_BUDGET_BYTES} of constraints as JSON (a few
 * times that in the heap, with a shape's enum table), holds thousands of everyday variables (a bound or a few options,
 * under 100 bytes each) and the largest few: the variables written often. Constraints left out are only checked again
 * at their next record, for a few times what parsing that record took (0.4 ms for a `choice` of 2,000 options). And a
 * key's entry goes as soon as the key is deleted or purged (a variable's delete, its session's removal), so a node
 * keeps nothing of a variable that is gone.
 * @module
 */
import { validateStoredConstraints } from './constraints.js';
import type { Constraints, VariableType } from './types.js';

/** Variables whose checked constraints are kept: past this many, the one first kept is dropped (and checked again). */
export const STORED_CONSTRAINTS_KEPT = 4096;

/** The JSON length of all constraints kept, at most: past it, the ones first kept are dropped. 4 MiB. */
export const STORED_CONSTRAINTS_BUDGET_BYTES = 4 * 1024 * 1024;

/** Checked constraints of stored records, kept per key; see {@link createStoredConstraints}. */
export interface StoredConstraints {
  /** The checked constraints of a stored record of `type` under `key`, named `variable` in refusals. */
  check(key: string, type: VariableType, raw: unknown, variable: string): Constraints;
  /** `key` holds no record any more: what was kept for it goes. */
  forget(key: string): void;
}

/** Options of {@link createStoredConstraints}. */
export interface StoredConstraintsOptions {
  /** The JSON length of all constraints kept, at most. @default STORED_CONSTRAINTS_BUDGET_BYTES */
  readonly maxBytes?: number;
}

interface Checked {
  readonly type: VariableType;
  readonly constraints: Constraints;
  /** The JSON length of `constraints`, measured once, as they were kept. */
  readonly bytes: number;
}

/**
 * A checker of stored constraints, keeping for each key the normalised, frozen constraints `validateStoredConstraints`
 * returned, oldest dropped first past {@link STORED_CONSTRAINTS_KEPT} keys or `maxBytes` (constraints longer than that
 * are not kept at all). A record under the same key, of the same type and with constraints equal to those returned
 * gets them again: the same object, so what is kept per normalised shape stays built. The record's constraints are
 * compared with the normalised ones (as JSON, an object's keys in any order), so no second copy is kept: normalising
 * depends on the JSON alone and gives a normalised form back as it is, so a record equal to them checks to them.
 * Anything else is checked afresh, so a record written around the nodes cannot pass under another's constraints.
 * Throws the `ValidationError` of `validateStoredConstraints`, naming `variable`.
 * @example
 * const stored = createStoredConstraints();
 * const first = stored.check('s.temp', 'float', { min: 0, max: 1 }, 'temp');
 * stored.check('s.temp', 'float', { max: 1, min: 0 }, 'temp') === first // true
 * stored.forget('s.temp') // its variable was deleted
 */
export function createStoredConstraints(options: StoredConstraintsOptions = {}): StoredConstraints {
  const { maxBytes = STORED_CONSTRAINTS_BUDGET_BYTES } = options;
  const kept = new Map<string, Checked>();
  let keptBytes = 0;
  const forget = (key: string): void => {
    const known = kept.get(key);
    if (known === undefined) return;
    kept.delete(key);
    keptBytes -= known.bytes;
  };
  return {
    check(key, type, raw, variable) {
      const known = kept.get(key);
      if (known !== undefined && known.type === type && sameJson(raw, known.constraints)) return known.constraints;
      // Gone before the check, so a record refused here leaves nothing kept under its key either.
      forget(key);
      const constraints = validateStoredConstraints(type, raw, variable);
      const bytes = JSON.stringify(constraints).length;
      if (bytes > maxBytes) return constraints;
      while (kept.size >= STORED_CONSTRAINTS_KEPT || keptBytes + bytes > maxBytes) {
        forget(kept.keys().next().value as string);
      }
      kept.set(key, { type, constraints, bytes });
      keptBytes += bytes;
      return constraints;
    },
    forget,
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
