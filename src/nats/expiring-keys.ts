/**
 * A bounded memory of keys, each for a time of its own: what a node remembers about executions that have not
 * reached it (yet), so that one arriving late is refused rather than run. Bounded so that a flood of keys for
 * executions that never come cannot grow it without end: full, it drops the keys that lapsed, and when none did, the
 * oldest.
 *
 * Lifetimes run on the monotonic clock (`performance.now()`), as idle times and the restart intensity do: on the
 * system clock, NTP stepping it forward would forget at once a cancel that came before its execute (which then ran,
 * provider calls and all), and stepping it back would hold every key for as long as the step.
 * @module
 */

/** Keys remembered for a time of their own, at most `maxKeys` of them. */
export class ExpiringKeys {
  /** Key → until when it is remembered, on the monotonic clock. Insertion order: the oldest first. */
  readonly #until = new Map<string, number>();

  constructor(readonly maxKeys = 10_000) {}

  /** Remembers `key` for `forMs` from now (its last moment included); remembered already, it moves to the newest. */
  add(key: string, forMs: number): void {
    const now = performance.now();
    this.#until.delete(key);
    // Lapsed keys at the front go now: the usual case, where keys are added with one lifetime, lapses in that order.
    for (const [old, until] of this.#until) {
      if (until >= now) break;
      this.#until.delete(old);
    }
    if (this.#until.size >= this.maxKeys) {
      // Full, with lifetimes of their own: every lapsed key goes before a key still held, then the oldest.
      for (const [old, until] of this.#until) if (until < now) this.#until.delete(old);
      if (this.#until.size >= this.maxKeys) this.#until.delete(this.#until.keys().next().value!);
    }
    this.#until.set(key, now + forMs);
  }

  /** Whether `key` is remembered now (its last moment included); forgotten either way: what it guards happens once. */
  take(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    this.#until.delete(key);
    return until >= performance.now();
  }

  /** How many keys are held, lapsed ones not swept yet included. */
  get size(): number {
    return this.#until.size;
  }
}
