/**
 * Requests waiting until a node's router has applied a store revision. Kept in a list ordered by revision, so
 * each applied change releases a prefix of it and looks at nothing else.
 * @module
 */

interface Waiter {
  readonly revision: number;
  readonly resolve: (reached: boolean) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Waiters for revisions, released by {@link RevisionWaiters.advance} or by their timeout. */
export class RevisionWaiters {
  /** Sorted by revision, lowest first. */
  readonly #waiting: Waiter[] = [];

  /** Resolves `true` once `advance` reaches `revision`, `false` after `timeoutMs`. */
  wait(revision: number, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { revision, resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      // Binary search: many requests may wait at once under load, and most arrive in revision order.
      let low = 0;
      let high = this.#waiting.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((this.#waiting[mid] as Waiter).revision <= revision) low = mid + 1;
        else high = mid;
      }
      this.#waiting.splice(low, 0, waiter);
    });
  }

  /** Releases every waiter at or below `applied`. */
  advance(applied: number): void {
    let count = 0;
    while (count < this.#waiting.length && (this.#waiting[count] as Waiter).revision <= applied) count += 1;
    if (count === 0) return;
    for (const waiter of this.#waiting.splice(0, count)) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }

  /** How many requests are waiting. */
  get size(): number {
    return this.#waiting.length;
  }
}
