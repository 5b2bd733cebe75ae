/**
 * Tasks that take turns per key. `updateVariable` runs through it, embedded and remote alike, so that one
 * runtime's (or one client's) concurrent updates of one variable go one after another: racing each other's
 * compare-and-set instead, N local updaters would all read the same version and N − 1 would lose every round.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** One {@link SerialTasks.hold}: held until what its work returned has settled. */
interface Hold {
  held: boolean;
}

/** Runs tasks one at a time per key, in the order they were handed in; different keys run independently. */
export class SerialTasks {
  readonly #tails = new Map<string, Promise<unknown>>();
  /** The keys whose turn the current asynchronous context holds, through {@link SerialTasks.hold}. */
  readonly #holds = new AsyncLocalStorage<ReadonlyMap<string, Hold>>();

  /**
   * Runs `task` after every earlier task queued under `key` has settled (whether it resolved or rejected). A
   * task handed in from work that holds `key`'s turn (see {@link SerialTasks.hold}) would wait for that work,
   * which waits for it: it rejects at once with the error `reentered` builds, and nothing is queued.
   */
  run<T>(key: string, task: () => Promise<T>, reentered: () => Error): Promise<T> {
    if (this.#holds.getStore()?.get(key)?.held === true) return Promise.reject(reentered());
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

  /**
   * Runs `work`, part of a task queued under `key`, as holding that key's turn until what it returns has settled:
   * only what `work` awaits meanwhile can make its task wait, so only that is refused by {@link SerialTasks.run}.
   * What it leaves behind (a timer that fires later) and what its task does besides (a listener told of the
   * task's write) holds nothing, and queues as any caller does.
   */
  hold<T>(key: string, work: () => T | Promise<T>): Promise<T> {
    const hold: Hold = { held: true };
    const holds = new Map(this.#holds.getStore()).set(key, hold);
    const release = () => {
      hold.held = false;
    };
    try {
      const result = Promise.resolve(this.#holds.run(holds, work));
      void result.then(release, release);
      return result;
    } catch (error) {
      release();
      return Promise.reject(error);
    }
  }
}
