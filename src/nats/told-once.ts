/**
 * Telling `onError` of a fault once rather than at each meeting: a refused subject met at each publish, a value in a
 * bucket that is no record of ours met at each read, listing and scan. What was told is remembered up to a bound.
 * @module
 */

/** How many things told are remembered by default. */
export const TOLD_MAX = 256;

/**
 * A memory of what was told: `first(key)` is `true` the first time `key` is met (and remembers it), `false` after.
 * Past `max` keys, the longest remembered is forgotten (and told again should it be met again), which keeps the
 * memory bounded and the reports at one per key in a while.
 * @example
 * const first = toldOnce();
 * if (first(`${key}@${revision}`)) report(error);
 */
export function toldOnce(max: number = TOLD_MAX): (key: string) => boolean {
  const told = new Set<string>();
  return (key) => {
    if (told.has(key)) return false;
    if (told.size >= max) told.delete(told.values().next().value as string);
    told.add(key);
    return true;
  };
}
