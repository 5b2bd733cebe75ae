/**
 * The declared name a mistyped one most likely meant, for a "did you mean" hint.
 * @module
 */

/** How many single-character edits (insert, delete, replace, swap of neighbours) turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  // Optimal string alignment: the Damerau–Levenshtein variant in which a swapped pair counts as one typo.
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i]!;
      row[j] = Math.min(row[j - 1]! + 1, rows[i - 1]![j]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The one name of `names` that `typed` is a typo of (at most one edit per three characters, two at most) or the
 * start of; `undefined` when none is, or when two are equally close (a hint that guesses would mislead).
 * @example
 * closestName('update-by', ['updated-by', 'text']); // 'updated-by'
 */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  const allowed = Math.min(2, Math.floor(typed.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  let tied = false;
  for (const name of names) {
    const distance = name.startsWith(typed) ? 0 : editDistance(typed, name);
    if (distance > allowed || distance > bestDistance) continue;
    tied = distance === bestDistance;
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return tied ? undefined : best;
}
