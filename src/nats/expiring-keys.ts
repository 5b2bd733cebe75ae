/**
 * A bounded memory of keys, each until a time of its own: what a node remembers about executions that have not
 * reached it (yet), so that one arriving late is refused rather than run. Bounded so that a flood of keys for
 * executions that never come cannot grow it without end: past its size, the oldest key goes first.
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
    // Lapsed keys at the front go now; one not lapsed stops the sweep, unless there is no room.
    for (const [old, until] of this.#until) {
      if (until > now && this.#until.size < this.maxKeys) break;
      this.#until.delete(old);
    }
    this.#until.delete(key);
    this.#until.set(key, untilMs);
  }

  /** Whether `key` is remembered now; it is forgotten either way (what it guards happens once). */
  take(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    this.#until.delete(key);
    return until > Date.now();
  }

  /** How many keys are held, lapsed ones not swept yet included. */
  get size(): number {
    return this.#until.size;
  }
}
