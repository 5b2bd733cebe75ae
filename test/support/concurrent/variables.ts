/**
 * The variables the concurrency fuzzer's workers share, how each is defined, the values drawn for them, and the check
 * that a value is one its type and constraints accept (what every watcher, history and read must only ever show).
 * @module
 */
import type { FuzzRandom } from '../wire-fuzz/random.js';

/**
 * The counter: written only by `updateVariable` increments, so its end value is their count past its first value, 1
 * (the module's token budget is bound to it, and a budget is at least 1).
 */
export const COUNTER = 'count';
/** The scratch variable, deleted and defined again by the workers. */
export const SCRATCH = 'tmp';
/** The variables written by every other kind of write (sets, compare-and-sets, batches, rollbacks, locks). */
export const WRITTEN = ['f', 's', 'l'] as const;
/** Every variable of the session. */
export const NAMES = [COUNTER, ...WRITTEN, SCRATCH] as const;

/** One variable's definition: type, first value, constraints, and what makes a value valid. */
interface Definition {
  readonly type: 'integer' | 'float' | 'string' | 'list';
  readonly value: unknown;
  readonly constraints: Record<string, unknown>;
  readonly valid: (value: unknown) => boolean;
}

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/** The definitions, by name. */
export const DEFINITIONS: Readonly<Record<(typeof NAMES)[number], Definition>> = {
  count: { type: 'integer', value: 1, constraints: {}, valid: isInteger },
  f: {
    type: 'float',
    value: 0.5,
    constraints: { min: -10, max: 10 },
    valid: (v) => typeof v === 'number' && v >= -10 && v <= 10,
  },
  s: {
    type: 'string',
    value: 'a',
    // A pattern is matched as `RegExp.test` matches it, anywhere in the value (README): anchored to mean the whole.
    constraints: { pattern: '^[a-z]{1,6}$' },
    valid: (v) => typeof v === 'string' && /^[a-z]{1,6}$/.test(v),
  },
  l: {
    type: 'list',
    value: [],
    constraints: { itemType: 'integer', maxItems: 4 },
    valid: (v) => Array.isArray(v) && v.length <= 4 && v.every(isInteger),
  },
  tmp: {
    type: 'integer',
    value: 1,
    constraints: { min: 0, max: 1000 },
    valid: (v) => isInteger(v) && v >= 0 && v <= 1000,
  },
};

/** Whether `value` is one variable `name` may hold. */
export function validFor(name: string, value: unknown): boolean {
  const definition = (DEFINITIONS as Record<string, Definition | undefined>)[name];
  return definition !== undefined && definition.valid(value);
}

/** A value for `name`: valid mostly, one its constraints refuse now and then (the write must then be refused). */
export function drawValue(random: FuzzRandom, name: string): unknown {
  const invalid = random.chance(0.06);
  switch (name) {
    case 'f':
      return invalid ? random.pick([10.5, -11]) : Math.round((random.next() * 20 - 10) * 1000) / 1000;
    case 's':
      return invalid
        ? random.pick(['TOOLONGX', 'Ab', ''])
        : Array.from({ length: 1 + random.int(6) }, () => 'abcdefgh'[random.int(8)]).join('');
    case 'l':
      return invalid
        ? random.pick([[1, 2, 3, 4, 5], [1.5], ['x']])
        : Array.from({ length: random.int(5) }, () => random.int(100));
    case SCRATCH:
      return invalid ? random.pick([-1, 1001]) : random.int(1001);
    default:
      return random.int(100);
  }
}

/**
 * The value a variable holds once `value` is written: a float's `-0` is stored as `0` (number-values.ts: JSON cannot
 * carry the sign, and every node must hold the same value). A batch's outcome names no value, so its claim is this.
 */
export function asStored(value: unknown): unknown {
  return typeof value === 'number' ? value + 0 : value;
}

/** The `updateVariable` function used on each variable: the counter's increment, a change that stays valid on others. */
export function updateFor(name: string): (value: unknown) => unknown {
  switch (name) {
    case COUNTER:
      return (value) => (value as number) + 1;
    case 'f':
      return (value) => ((value as number) >= 9 ? -9 : Math.round(((value as number) + 1) * 1000) / 1000);
    case 's':
      return (value) => ((value as string).length >= 6 ? 'a' : `${value as string}b`);
    case 'l':
      return (value) => ((value as number[]).length >= 4 ? [] : [...(value as number[]), 7]);
    default:
      return (value) => ((value as number) >= 1000 ? 0 : (value as number) + 1);
  }
}
