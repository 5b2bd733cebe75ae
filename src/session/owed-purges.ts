/**
 * The purges an embedded runtime owes: those of sessions that expired or were deleted while the store refused the
 * purge. A process of such an id (the id opened again) purges first, or it would load the ended life's variables
 * as its own.
 * @module
 */
import type { Store } from '../store/store.js';
import { purgeSessionKeys } from './purge-session.js';

/** A purge owed: see {@link OwedPurges.owe}. */
interface Owed {
  readonly expected?: ReadonlyMap<string, number>;
  readonly except?: string;
  readonly through?: number;
}

/** The purges that failed, by session id. */
export class OwedPurges {
  readonly #owed = new Map<string, Owed>();

  /**
   * Notes that the purge of `sessionId` failed. `expected` (an expiry's), the revision each key had to be at, keeps
   * keys another runtime sharing the store wrote since. `through` is the last revision of the ended life: a key
   * written after it is a new life's, the id opened again by another runtime sharing the store, and stays. `except`
   * is a key left as it is: a deletion's marker, whose purge every runtime sharing the store would hear as the id
   * deleted again, ending the life that opened it.
   */
  owe(sessionId: string, owed: Owed = {}): void {
    this.#owed.set(sessionId, owed);
  }

  /** Whether a purge of `sessionId` is owed. */
  owes(sessionId: string): boolean {
    return this.#owed.has(sessionId);
  }

  /** Purges what is owed of `sessionId`; rejects with the store's error, still owing it, when the store fails again. */
  async settle(store: Store<unknown>, sessionId: string): Promise<void> {
    const owed = this.#owed.get(sessionId);
    if (owed === undefined) return;
    const { through = Infinity } = owed;
    const listed = await store.keys(`${sessionId}.`);
    const keys = listed.filter(({ key, revision }) => key !== owed.except && revision <= through);
    await purgeSessionKeys(store, sessionId, { keys, ...(owed.expected && { expected: owed.expected }) });
    this.#owed.delete(sessionId);
  }
}
