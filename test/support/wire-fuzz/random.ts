/**
 * The fuzzer's one source of randomness: seeded, so that a failing seed replays the same requests.
 * @module
 */

/** A seeded random source; every draw of a run goes through one, so its seed replays the run. */
export interface FuzzRandom {
  /** The seed it started from (printed in every failure). */
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One item of `items` (which must not be empty). */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/**
 * A mulberry32 generator: tiny, fast and good enough to spread requests; `Math.random` could not be replayed.
 * @example
 * const random = createRandom(7);
 * random.pick(['a', 'b']);
 */
export function createRandom(seed: number): FuzzRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    chance: (p: number): boolean => next() < p,
  };
}
