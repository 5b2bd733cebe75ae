/**
 * What in an object input Ax could not render in its prompt (nested too deep, a value JSON has no form for, a member
 * whose reading threw), and the caller's refusal for it: the deep half of checking an execution's inputs, apart from
 * the per-field rules of input-fields.ts.
 * @module
 */
import { ValidationError } from '../errors.js';
import { couldNotRead } from '../option-keys.js';
import { MAX_JSON_DEPTH } from '../variables/json-value.js';
import { lostInJson } from './lost-in-json.js';

/**
 * Why Ax could not render an object input: nested too deep, at `path` (member names, outermost first) a value JSON
 * has no form for (`got`: a bigint, or what JSON would drop or rewrite, see lost-in-json.ts; in a list also a hole or
 * `undefined`, which JSON writes as `null`), or a member whose reading threw `error` (a getter or proxy of the
 * caller's; `path` ends at the object when listing its members threw).
 */
export type Snag =
  | { readonly kind: 'depth' }
  | { readonly kind: 'unwritable'; readonly got: string; readonly path: string[] }
  | { readonly kind: 'unreadable'; readonly error: unknown; readonly path: string[] };

const TOO_DEEP: Snag = { kind: 'depth' };

/**
 * What in `value` Ax could not render in the prompt, or `undefined`. Ax walks an input recursively, and one nested
 * thousands of levels overflowed the stack there; it writes objects as JSON, which has no bigint. Either failed as
 * the LLM program's error (`internal_error`) rather than as the caller's, and what JSON drops or rewrites (a number
 * that is not finite as `null`, a `Map` as `{}`, a list's hole as `null`) reached the model changed. An object's
 * `undefined` member is left out by JSON as absent, which is what it means. The walk stops at the depth limit, so
 * it cannot overflow itself, and allocates nothing unless it finds one of those. An object with a `toJSON` of the
 * caller's (a class instance) is judged by what that returns, as JSON writes it (`written`: `value` is what a `toJSON`
 * returned, which JSON writes member by member without asking it again).
 */
export function snagIn(value: object, depth: number, written = false): Snag | undefined {
  if (depth >= MAX_JSON_DEPTH) return TOO_DEEP;
  // The member being read (an index, or a name), so that a throw is told apart from one of listing the members (a
  // proxy's `ownKeys`).
  let reading: number | string | undefined;
  try {
    const toJSON = written ? undefined : (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // A `Date`'s writes its time. Any other is the caller's code, which Ax runs as it writes the prompt: one that
      // threw there failed the execution as the program's `internal_error`, after it had waited its turn, and its
      // input broke the inspect feed's snapshots meanwhile. Run here too (so twice in all), its throw is the caller's.
      if (value instanceof Date) return undefined;
      reading = 'toJSON()';
      const json: unknown = toJSON.call(value, '');
      reading = undefined;
      const got = typeof json === 'bigint' ? 'a bigint' : lostInJson(json);
      if (got !== undefined) return { kind: 'unwritable', got, path: ['.toJSON()'] };
      const snag = typeof json === 'object' && json !== null ? snagIn(json, depth + 1, true) : undefined;
      return snag && within(snag, '.toJSON()');
    }
    if (Array.isArray(value)) {
      // By index: `for…in` would skip the holes.
      for (let i = 0; i < value.length; i++) {
        reading = i;
        const item: unknown = i in value ? value[i] : HOLE;
        reading = undefined;
        const snag = itemSnag(item, true, depth);
        if (snag) return within(snag, `[${i}]`);
      }
      return undefined;
    }
    for (const key in value) {
      reading = key;
      const item = (value as Record<string, unknown>)[key];
      reading = undefined;
      const snag = itemSnag(item, false, depth);
      if (snag) return within(snag, `.${key}`);
    }
  } catch (error) {
    // A getter or proxy of the caller's threw: Ax would have thrown the same in the middle of rendering the prompt,
    // as the program's failure rather than the caller's.
    const path = reading === undefined ? [] : [typeof reading === 'number' ? `[${reading}]` : `.${reading}`];
    return { kind: 'unreadable', error, path };
  }
  return undefined;
}

/** Stands for a list's hole, which reads as `undefined`. */
const HOLE = Symbol('hole');

/** What is wrong with one member of an object input (`inList`: an item of a list), or `undefined`. */
function itemSnag(item: unknown, inList: boolean, depth: number): Snag | undefined {
  // JSON leaves an object's `undefined` member out, as absent: what it means. In a list it writes `null`.
  const got =
    item === HOLE
      ? 'a hole'
      : item === undefined
        ? inList
          ? 'undefined'
          : undefined
        : typeof item === 'bigint'
          ? 'a bigint'
          : lostInJson(item);
  if (got !== undefined) return { kind: 'unwritable', got, path: [] };
  return typeof item === 'object' && item !== null ? snagIn(item, depth + 1) : undefined;
}

/** `snag`, found in the member `member` (`[0]`, `.name`), with that member at the front of its path. */
function within(snag: Snag, member: string): Snag {
  if (snag.kind !== 'depth') snag.path.unshift(member);
  return snag;
}

/** The refusal of input field `name` for what {@link snagIn} found in it. */
export function snagError(name: string, snag: Snag): ValidationError {
  if (snag.kind === 'depth') {
    return new ValidationError(`input field '${name}' is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      details: { field: name, constraint: 'depth' },
    });
  }
  const at = `${name}${snag.path.join('')}`;
  if (snag.kind === 'unreadable') {
    const where = snag.path.length === 0 ? '' : ` at ${at}`;
    return couldNotRead(`input field '${name}'${where}`, snag.error, { field: name, path: at });
  }
  return new ValidationError(`input field '${name}' holds ${snag.got} at ${at}, which JSON cannot carry`, {
    details: { field: name, path: at, got: snag.got },
  });
}
