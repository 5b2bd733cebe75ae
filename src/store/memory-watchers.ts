/**
 * The watchers of the in-memory store (memory-store.ts) and their delivery: one store-wide FIFO queue, drained
 * synchronously by the write that filled it. A listener that writes to the store queues that write behind the
 * current one, which reaches every watcher first, so every watcher sees changes in revision order.
 * @module
 */
import type { StoreChange } from './store.js';
import { prefixesOf } from './store-keys.js';

/** One watch of the store. */
export interface Watcher<V> {
  readonly prefix: string;
  readonly listener: (change: StoreChange<V>) => void;
  /** Changes below this revision are not this watcher's (its `fromRevision`; 0 without one). */
  readonly fromRevision: number;
  stopped: boolean;
}

/** A queued delivery: a change for one watcher, or the signal that a watcher's current values are out. */
type Delivery<V> =
  | { readonly watcher: Watcher<V>; readonly change: StoreChange<V> }
  | { readonly watcher: Watcher<V>; readonly ready: () => void };

/** The store's watchers by prefix, and the queue of what they have yet to hear. */
export class MemoryWatchers<V> {
  readonly #byPrefix = new Map<string, Set<Watcher<V>>>();
  readonly #queue: Delivery<V>[] = [];
  #head = 0;
  #draining = false;

  /** `reportError` is told about every exception a listener throws; delivery carries on. */
  constructor(private readonly reportError: (error: unknown, change: StoreChange<unknown>) => void) {}

  /** Adds a watcher of the keys under `prefix`, for changes at or above `fromRevision`. */
  add(prefix: string, listener: (change: StoreChange<V>) => void, fromRevision: number): Watcher<V> {
    const watcher: Watcher<V> = { prefix, listener, fromRevision, stopped: false };
    let watchers = this.#byPrefix.get(prefix);
    if (watchers === undefined) this.#byPrefix.set(prefix, (watchers = new Set()));
    watchers.add(watcher);
    return watcher;
  }

  /** Queues `change` for `watcher` alone (what a new watch gets first). */
  queue(watcher: Watcher<V>, change: StoreChange<V>): void {
    this.#queue.push({ watcher, change });
  }

  /** Queues the call of `ready` once what was queued for `watcher` before it is delivered. */
  queueReady(watcher: Watcher<V>, ready: () => void): void {
    this.#queue.push({ watcher, ready });
  }

  /** Queues `change` for every watcher of its key. */
  announce(change: StoreChange<V>): void {
    for (const prefix of prefixesOf(change.key)) {
      const watchers = this.#byPrefix.get(prefix);
      if (watchers === undefined) continue;
      for (const watcher of watchers)
        if (change.revision >= watcher.fromRevision) this.#queue.push({ watcher, change });
    }
  }

  /** Delivers everything queued, in order; a drain already under way (a listener wrote) delivers it instead. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#head < this.#queue.length) {
        const delivery = this.#queue[this.#head]!;
        this.#head += 1;
        if (delivery.watcher.stopped) continue;
        if ('ready' in delivery) {
          delivery.ready();
          continue;
        }
        try {
          delivery.watcher.listener(delivery.change);
        } catch (error) {
          try {
            this.reportError(error, delivery.change);
          } catch {
            // A failing error reporter must not break delivery either.
          }
        }
      }
    } finally {
      this.#queue.length = 0;
      this.#head = 0;
      this.#draining = false;
    }
  }

  /** Stops a watcher: nothing more is delivered to it. */
  remove(watcher: Watcher<V>): void {
    watcher.stopped = true;
    const watchers = this.#byPrefix.get(watcher.prefix);
    if (watchers === undefined) return;
    watchers.delete(watcher);
    if (watchers.size === 0) this.#byPrefix.delete(watcher.prefix);
  }

  /** Stops every watcher (the store closed). */
  close(): void {
    for (const watchers of this.#byPrefix.values()) {
      for (const watcher of watchers) watcher.stopped = true;
    }
    this.#byPrefix.clear();
    // Stopped watchers' `ready` would otherwise hang: let their queued ready signals through.
    for (let i = this.#head; i < this.#queue.length; i += 1) {
      const delivery = this.#queue[i]!;
      if ('ready' in delivery) delivery.ready();
    }
  }
}
