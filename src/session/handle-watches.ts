/**
 * The watches made through one Session handle: its stop ends them, and refuses one still starting as the stop begins.
 * @module
 */
import type { Unwatch } from './session-context.js';

/** The watches of one Session handle, and whether its stop has begun. */
export class HandleWatches {
  /** The watches made through the handle, ended by {@link endAll}. */
  readonly #ends = new Set<Unwatch>();
  /** Set as the handle's stop begins: a watch still starting then is refused rather than left running. */
  #stopping = false;

  /** Whether the handle's stop has begun: a watch still starting is then refused. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The handle's stop begins. */
  beginStop(): void {
    this.#stopping = true;
  }

  /** `unwatch` as a watch of the handle: ended by {@link endAll}, and forgotten once ended. */
  add(unwatch: Unwatch): Unwatch {
    const end: Unwatch = () => {
      this.#ends.delete(end);
      unwatch();
    };
    this.#ends.add(end);
    return end;
  }

  /** Ends every watch made through the handle. */
  endAll(): void {
    for (const end of [...this.#ends]) end();
  }
}
