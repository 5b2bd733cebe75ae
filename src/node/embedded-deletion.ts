/**
 * How an embedded runtime deletes a session when other runtimes may share its store: it writes a delete marker
 * under the session's `=ended` key, which every runtime's router hears (and ends its processes of the session
 * on), ends its own process, then purges the session's keys. A NATS node deletes through its session directory
 * instead, and ignores the marker.
 * @module
 */
import type { OwedPurges } from '../session/owed-purges.js';
import { purgeSessionKeys } from '../session/purge-session.js';
import type { Store } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';

/**
 * Under a session's keys, the key whose delete marker an embedded runtime writes when it deletes the session: every
 * runtime sharing the store hears it and ends its processes of the session. Not a variable name: no session lists it.
 */
export const ENDED_KEY = '=ended';

/**
 * Deletes session `id` from `store`, once `end` (this runtime's end of the session) has resolved. A purge the store
 * fails is noted in `owed`, if given: the id opened again purges first, rather than load the deleted variables.
 */
export async function deleteEmbedded(
  store: Store<VariableRecord>,
  id: string,
  end: () => Promise<void>,
  owed?: OwedPurges,
): Promise<void> {
  // Other runtimes may share this store: the marker ends their processes of the session too (see
  // `SessionRouter`). It is purged with the rest (every runtime hears that once more, still within this deletion).
  const marker = await store.delete(`${id}.${ENDED_KEY}`);
  // Once the process has ended (a write in flight first), the store can be purged.
  await end();
  // The ended life's last revision, for a purge owed: what is written after it is a new life's (see OwedPurges). With
  // no listing, the marker's: a write in flight that landed after it stays, rather than purge another runtime's.
  let through = marker;
  try {
    const keys = await store.keys(`${id}.`);
    through = keys.reduce((last, { revision }) => Math.max(last, revision), marker);
    await purgeSessionKeys(store, id, { keys });
  } catch (error) {
    owed?.owe(id, { except: `${id}.${ENDED_KEY}`, through });
    throw error;
  }
}

/** The deletions an embedded runtime has under way: its stop waits for them. */
export class EmbeddedDeletions {
  readonly #underWay = new Set<Promise<void>>();

  constructor(
    private readonly store: Store<VariableRecord>,
    private readonly owed?: OwedPurges,
  ) {}

  /** Deletes session `id` (see {@link deleteEmbedded}), once `end` has resolved. */
  async delete(id: string, end: () => Promise<void>): Promise<void> {
    const deletion = deleteEmbedded(this.store, id, end, this.owed);
    this.#underWay.add(deletion);
    try {
      await deletion;
    } finally {
      this.#underWay.delete(deletion);
    }
  }

  /** The deletions under way, each settling when it does, failed or not. */
  settling(): Promise<void>[] {
    return [...this.#underWay].map((deletion) => deletion.catch(() => {}));
  }
}
