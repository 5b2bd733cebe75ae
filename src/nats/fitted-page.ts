/**
 * Pages that fit in one reply. A node answers a request with one NATS message, which the server refuses over its
 * `max_payload`; a paged read (`var.list`, `var.history` with `after`) takes items for as long as their JSON fits,
 * and the client asks for the next page after the last item taken. So a session whose variables, or a variable whose
 * kept versions, are too large together for one message is still read whole, a page at a time.
 * @module
 */

/**
 * Bytes of a paged reply left for what is not its items: the reply's envelope (`{"result":…,"revision":…}`), the
 * page's own fields (`next`, a history's `type`) and the reply's headers, which count against `max_payload` too.
 */
export const PAGE_OVERHEAD_BYTES = 4096;

/** A page taken from a list: its items, and whether more items follow them. */
export interface FittedPage<T> {
  readonly items: T[];
  readonly more: boolean;
  /** The bytes of the page's one item when that alone is over the budget (stored under a larger max_payload). */
  readonly oversized?: number;
}

/**
 * The first of `items` as `encode` makes them JSON-ready, at most `limit`, whose JSON array takes at most `budget`
 * bytes; always at least one, so that paging goes on (one too large alone comes with its size as `oversized`, for
 * the caller to refuse). Only the items taken, and the one that did not fit, are encoded.
 * @example
 * fitPage(['aa', 'bb', 'cc'], (s) => s, Infinity, 12) // { items: ['aa', 'bb'], more: true }: ["aa","bb"] is 11 bytes
 */
export function fitPage<T, U>(
  items: readonly T[],
  encode: (item: T) => U,
  limit: number,
  budget: number,
): FittedPage<U> {
  const taken: U[] = [];
  let bytes = 2; // the brackets
  for (const item of items) {
    if (taken.length >= limit) return fitted(taken, true, bytes, budget);
    const encoded = encode(item);
    const size = Buffer.byteLength(JSON.stringify(encoded), 'utf8') + (taken.length > 0 ? 1 : 0);
    if (taken.length > 0 && bytes + size > budget) return fitted(taken, true, bytes, budget);
    taken.push(encoded);
    bytes += size;
  }
  return fitted(taken, false, bytes, budget);
}

function fitted<U>(items: U[], more: boolean, bytes: number, budget: number): FittedPage<U> {
  return bytes > budget ? { items, more, oversized: bytes - 2 } : { items, more };
}
