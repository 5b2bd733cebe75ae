/**
 * How far an embedded runtime's router has handed store changes to its session processes, for a write that lost a
 * race: it folds in what it re-read only once the router got that far, as a NATS node's does (tracking-store.ts).
 * The waits are the node's own kind ({@link RevisionWaiters}), with no watch outage to hold them longer.
 * @module
 */
import { RevisionWaiters } from '../nats/revision-waiters.js';

/**
 * How long a write that lost a race waits for the router before it folds in what it re-read all the same (its
 * watchers then hear of the versions it skipped as a `gap`): the bound a NATS node's wait has.
 */
export const EMBEDDED_ROUTED_WAIT_MS = 1500;

/** The highest store revision an embedded runtime's router has handed over, and the waits for it. */
export class RoutedRevisions {
  #reached = 0;
  readonly #waiters = new RevisionWaiters();

  constructor(private readonly waitMs = EMBEDDED_ROUTED_WAIT_MS) {}

  /** Notes that the router has handed over every change up to `revision`, and ends the waits it satisfies. */
  note(revision: number): void {
    if (revision <= this.#reached) return;
    this.#reached = revision;
    this.#waiters.advance(revision);
  }

  /**
   * Resolves `true` once the router has handed over `revision`, or `false` after the wait's bound (a store whose
   * watch lags further, or stopped); never rejects.
   */
  waitUntil(revision: number): Promise<boolean> {
    return revision <= this.#reached ? Promise.resolve(true) : this.#waiters.wait(revision, this.waitMs);
  }
}
