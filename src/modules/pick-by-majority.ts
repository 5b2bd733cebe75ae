/**
 * MultiChainComparison's default choice among its samples: the most frequent answer, compared by a canonical
 * text of each sample so that key order does not make equal answers look different.
 * @module
 */
import type { FieldValues } from './module-types.js';

/** Stable text of a value: key order must not make equal answers look different. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * The index of the most frequent sample; ties go to the earliest, so the choice is deterministic.
 * Returns 0 for an empty list.
 */
export function pickByMajority(samples: readonly FieldValues[]): number {
  const counts = new Map<string, { first: number; count: number }>();
  samples.forEach((sample, index) => {
    const key = canonical(sample);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { first: index, count: 1 });
  });
  let best = { first: 0, count: 0 };
  for (const entry of counts.values()) {
    if (entry.count > best.count) best = entry;
  }
  return best.first;
}
