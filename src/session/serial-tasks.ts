/**
 * Tasks that take turns per key. `updateVariable` runs through it, embedded and remote alike, so that one
 * runtime's (or one client's) concurrent updates of one variable go one after another: racing each other's
 * compare-and-set instead, N local updaters would all read the same version and N − 1 would lose every round.
 * @module
 */

/** Runs tasks one at a time per key, in the order they were handed in; different keys run independently. */
export class SerialTasks {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task queued under `key` has settled (whether it resolved or rejected). */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => {});
    this.#tails.set(key, tail);
    // The last task of a key removes its entry, so the map holds only keys with work queued.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** How many keys have tasks queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
