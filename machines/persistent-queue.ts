/**
 * A process's queue of waiting work (a module's executions, a session's writes), oldest first, as a persistent
 * queue. Each change makes a new queue and leaves the one it came from as it was, so a snapshot an inspector kept
 * goes on showing what it showed, and nothing an inspector does to one changes what the process does. Adding last,
 * taking the first, replacing the first and removing one by its key each take constant time (amortized), as does
 * looking one up by its key.
 *
 * Each queue was a frozen array copied whole on every change (and searched whole on some): queueing n items cost n².
 * 20,000 executions queued at one module held up the process 18 s; 10,000 concurrent writes to one session, 4 s.
 *
 * The versions made one from another share one log: the items ever added last, each with the version that removed
 * it. A version is a window on that log (`start` to `end`) read as of its own version number, so a later version's
 * removal, marked in the log with a higher number, is not seen by an earlier one; a replaced first item is the
 * version's own (`head`). Only the newest version of a log writes to it; a change to an older one (a transition
 * computed from an old snapshot) copies it first.
 * @module
 */

/** What the versions of one queue share. */
interface Log<T> {
  /** Every item added last, in order; only appended to. */
  readonly items: T[];
  /** Per item, the version that removed it out of turn (`Infinity` while none did). */
  readonly removedAt: number[];
  /** The newest version's index of each item it holds, by key. */
  readonly indexOf: Map<unknown, number>;
  readonly keyOf: (item: T) => unknown;
  /** The newest version made on this log. */
  newest: number;
}

/** Below this many dead items a log is not rebuilt: a small copy saves nothing. */
const COMPACT_AFTER = 1024;

/**
 * Items waiting their turn, oldest first, each with a key no other item of the queue has (its caller's id, its
 * request); frozen, every change a new queue. JSON shows it as the array of its items.
 */
export class PersistentQueue<T> implements Iterable<T> {
  readonly #log: Log<T>;
  readonly #start: number;
  readonly #end: number;
  readonly #version: number;
  /** The first item when a change replaced it (see {@link PersistentQueue.withFirst}); else the log's. */
  readonly #head: T | undefined;
  /** How many items are queued. */
  readonly length: number;

  /** An empty queue whose items `keyOf` tells apart. */
  static empty<T>(keyOf: (item: T) => unknown): PersistentQueue<T> {
    return new PersistentQueue<T>({ items: [], removedAt: [], indexOf: new Map(), keyOf, newest: 0 }, 0, 0, 0, 0);
  }

  private constructor(log: Log<T>, start: number, end: number, version: number, length: number, head?: T) {
    this.#log = log;
    this.#start = start;
    this.#end = end;
    this.#version = version;
    this.#head = head;
    this.length = length;
    Object.freeze(this);
  }

  /** The oldest item, if any. */
  get first(): T | undefined {
    // Every version's start is a queued item (see #advanced), or its end.
    return this.length === 0 ? undefined : (this.#head ?? this.#log.items[this.#start]);
  }

  /** Whether an item of `key` is queued. */
  has(key: unknown): boolean {
    return this.find(key) !== undefined;
  }

  /** The queued item of `key`, if any. */
  find(key: unknown): T | undefined {
    const log = this.#log;
    if (!this.#newest) {
      for (const item of this) if (log.keyOf(item) === key) return item;
      return undefined;
    }
    const index = log.indexOf.get(key);
    if (index === undefined) return undefined;
    return index === this.#start && this.#head !== undefined ? this.#head : log.items[index];
  }

  /** This queue with `item` last. */
  with(item: T): PersistentQueue<T> {
    // An empty queue, or an older version, starts a log of its own: the log it has is another version's to write.
    const base = this.length === 0 || !this.#newest ? this.#copy() : this;
    const log = base.#log;
    log.items.push(item);
    log.removedAt.push(Infinity);
    log.indexOf.set(log.keyOf(item), log.items.length - 1);
    return base.#next(base.#start, log.items.length, base.length + 1, base.#head);
  }

  /** This queue without its first item. */
  rest(): PersistentQueue<T> {
    if (this.length === 0) return this;
    const base = this.#newest ? this : this.#copy();
    base.#log.indexOf.delete(base.#log.keyOf(base.first as T));
    return base.#next(base.#start + 1, base.#end, base.length - 1, undefined);
  }

  /** This queue with `item` first in place of the first: an item of the same key (the same work, moved on). */
  withFirst(item: T): PersistentQueue<T> {
    if (this.length === 0) return this;
    const base = this.#newest ? this : this.#copy();
    return base.#next(base.#start, base.#end, base.length, item);
  }

  /** This queue without the item of `key` (itself when there is none). */
  without(key: unknown): PersistentQueue<T> {
    if (!this.has(key)) return this;
    const base = this.#newest ? this : this.#copy();
    const log = base.#log;
    const index = log.indexOf.get(key)!;
    log.indexOf.delete(key);
    if (index === base.#start) return base.#next(base.#start + 1, base.#end, base.length - 1, undefined);
    // Removed as of the next version: this one, and every older one, still hold it.
    log.removedAt[index] = base.#version + 1;
    return base.#next(base.#start, base.#end, base.length - 1, base.#head);
  }

  *[Symbol.iterator](): Iterator<T> {
    if (this.length === 0) return;
    const { items, removedAt } = this.#log;
    yield this.#head ?? items[this.#start]!;
    for (let index = this.#start + 1; index < this.#end; index++) {
      if (removedAt[index]! > this.#version) yield items[index]!;
    }
  }

  /** The queued items as an array, oldest first: what JSON (an inspector's, a snapshot's) shows. */
  toJSON(): T[] {
    return [...this];
  }

  /** Whether this is the newest version of its log, the one that may write to it. */
  get #newest(): boolean {
    return this.#version === this.#log.newest;
  }

  /** The next version of this (newest) one, rebuilt on a log of its own once most of the log it would keep is dead. */
  #next(start: number, end: number, length: number, head: T | undefined): PersistentQueue<T> {
    const log = this.#log;
    const version = ++log.newest;
    const from = this.#advanced(start, end, version);
    const next = new PersistentQueue(log, from, end, version, length, from === start ? head : undefined);
    const dead = end - length;
    return dead > COMPACT_AFTER && dead > length ? next.#copy() : next;
  }

  /** `start` moved past the items removed as of `version`, so that a version's start is its first queued item. */
  #advanced(start: number, end: number, version: number): number {
    let index = start;
    while (index < end && this.#log.removedAt[index]! <= version) index++;
    return index;
  }

  /** This queue on a log of its own, holding only its queued items. */
  #copy(): PersistentQueue<T> {
    const { keyOf } = this.#log;
    const items = [...this];
    const indexOf = new Map(items.map((item, index) => [keyOf(item), index]));
    const log: Log<T> = { items, removedAt: items.map(() => Infinity), indexOf, keyOf, newest: 0 };
    return new PersistentQueue(log, 0, items.length, 0, items.length);
  }
}
