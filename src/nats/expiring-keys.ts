/**
 * A bounded memory of keys, each until a time of its own: what a node remembers about executions that have not
 * reached it (yet), so that one arriving late is refused rather than run. Bounded so that a flood of keys for
 * executions that never come cannot grow it without end: full, it drops the keys that lapsed, and when none did, the
 * oldest.
 * @module
 */

/** Keys remembered until a time of their own (ms since 1970), at most `maxKeys` of them. */
export class ExpiringKeys {
  /** Key → until when it is remembered. Insertion order: the oldest first. */
  readonly #until = new Map<string, number>();

  constructor(readonly maxKeys = 10_000) {}

  /** Remembers `key` until `untilMs` (ms since 1970); remembered already, it moves to the newest. */
  add(key: string, untilMs: number): void {
    const now = Date.now();
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
    this.#until.set(key, untilMs);
  }

  /** Whether `key` is remembered now (its time included); forgotten either way: what it guards happens once. */
  take(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    this.#until.delete(key);
    return until >= Date.now();
  }

  /** How many keys are held, lapsed ones not swept yet included. */
  get size(): number {
    return this.#until.size;
  }
}
