/**
 * Tasks that take turns per key. `updateVariable` runs through it, embedded and remote alike, so that one
 * runtime's (or one client's) concurrent updates of one variable go one after another: racing each other's
 * compare-and-set instead, N local updaters would all read the same version and N − 1 would lose every round.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Runs tasks one at a time per key, in the order they were handed in; different keys run independently. */
export class SerialTasks {
  readonly #tails = new Map<string, Promise<unknown>>();
  /** The keys whose tasks the current asynchronous context is running inside. */
  readonly #inside = new AsyncLocalStorage<ReadonlySet<string>>();

  /**
   * Runs `task` after every earlier task queued under `key` has settled (whether it resolved or rejected). A
   * task that queues another under its own key would wait for itself for ever: that one rejects at once with
   * the error `reentered` builds, and nothing is queued.
   */
  run<T>(key: string, task: () => Promise<T>, reentered: () => Error): Promise<T> {
    const inside = this.#inside.getStore();
    if (inside?.has(key)) return Promise.reject(reentered());
    const keys = new Set(inside).add(key);
    const enter = (): Promise<T> => this.#inside.run(keys, task);
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(enter, enter);
    const tail = next.catch(() => {});
    this.#tails.set(key, tail);
    // The last task of a key removes its entry, so the map holds only keys with work queued.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
