/**
 * A memory store whose commits lose compare-and-set races when a test says so, deterministically: before such a
 * commit reaches the store, another writer's new version of a key lands there first, so the commit conflicts exactly
 * as one that lost to another node does. A test can also fail a commit.
 */
import { createMemoryStore, type Store, type StoreWrite, type VariableRecord } from '../../src/index.js';

/**
 * Decides, before each commit, which keys another writer writes first (none: the commit goes through as it is);
 * throwing fails the commit with that error, writing nothing.
 */
export type RaceBeforeCommit = (writes: readonly StoreWrite<VariableRecord>[]) => readonly string[];

/** Who writes the racing versions (their `updatedBy`). */
export const RACER = 'racer';

/**
 * The store, and `inner`, the memory store under it (reads of it are the store's). Each racing write puts the key's
 * record back at the next version with value -1, -2, … (so integer variables take it) by {@link RACER}.
 */
export function createRacingStore(race: RaceBeforeCommit): {
  store: Store<VariableRecord>;
  inner: Store<VariableRecord>;
} {
  const inner = createMemoryStore<VariableRecord>();
  let racingWrites = 0;
  async function writeAsAnother(key: string): Promise<void> {
    const entry = await inner.get(key);
    if (!entry) return;
    racingWrites += 1;
    const record = { ...entry.value, value: -racingWrites, version: entry.value.version + 1, updatedBy: RACER };
    await inner.update(key, record, entry.revision);
  }
  const store: Store<VariableRecord> = {
    ...inner,
    async commit(writes) {
      for (const key of race(writes)) await writeAsAnother(key);
      return inner.commit(writes);
    },
  };
  return { store, inner };
}
