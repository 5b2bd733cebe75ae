/**
 * A memory store whose operations can be slowed down or made to fail, for tests of what sessions do when the
 * store is slow, down, or keeps moving under a write.
 */
import { expect } from 'vitest';
import { StoreConflictError } from '../../src/errors.js';
import { createMemoryStore, type Session, type Store, type StoreWrite, type VariableRecord } from '../../src/index.js';

/** Faults to inject; change them at any time. */
export interface Faults {
  /** Milliseconds each commit waits before reaching the store. */
  commitDelayMs: number;
  /** Thrown by every commit instead of writing. */
  commitError: Error | undefined;
  /** Commits answer a conflict (as if another node always wrote first). */
  alwaysConflict: boolean;
  /** Thrown by `list` (the session's load). */
  listError: Error | undefined;
  /** Thrown synchronously by `commit`: a broken store that crashes the process calling it. */
  commitThrows: Error | undefined;
  /** Thrown by `lastChange` (a session's read of where a key stands, after a conflict or to confirm a refusal). */
  lastChangeError: Error | undefined;
  /** Thrown by `purge` (a session's expiry or deletion removing its keys). */
  purgeError: Error | undefined;
}

/** A store with injectable faults, and the faults to set. */
export function createFaultyStore(): { store: Store<VariableRecord>; faults: Faults } {
  const inner = createMemoryStore<VariableRecord>();
  const faults: Faults = {
    commitDelayMs: 0,
    commitError: undefined,
    alwaysConflict: false,
    listError: undefined,
    commitThrows: undefined,
    lastChangeError: undefined,
    purgeError: undefined,
  };
  const store: Store<VariableRecord> = {
    ...inner,
    get: (key) => inner.get(key),
    create: (key, value) => inner.create(key, value),
    update: (key, value, revision) => inner.update(key, value, revision),
    delete: (key, revision, options) => inner.delete(key, revision, options),
    history: (key) => inner.history(key),
    watch: (prefix, listener, options) => inner.watch(prefix, listener, options),
    close: () => inner.close(),
    async purge(key, revision) {
      if (faults.purgeError) throw faults.purgeError;
      return inner.purge(key, revision);
    },
    async lastChange(key) {
      if (faults.lastChangeError) throw faults.lastChangeError;
      return inner.lastChange!(key);
    },
    async list(prefix) {
      if (faults.listError) throw faults.listError;
      return inner.list(prefix);
    },
    commit(writes: readonly StoreWrite<VariableRecord>[]) {
      if (faults.commitThrows) throw faults.commitThrows;
      return commitAsync(writes);
    },
  };
  async function commitAsync(writes: readonly StoreWrite<VariableRecord>[]): Promise<number[]> {
    if (faults.commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.commitDelayMs));
    if (faults.commitError) throw faults.commitError;
    if (faults.alwaysConflict) {
      const first = writes[0];
      throw new StoreConflictError(first?.key ?? '', first?.expectedRevision ?? 0, (first?.expectedRevision ?? 0) + 1);
    }
    return inner.commit(writes);
  }
  return { store, faults };
}

/**
 * Crashes `session`'s process with a write of `name` that the store fails with a driver bug (the session comes back
 * on its next use; its modules go on meanwhile).
 */
export async function crashOnWrite(session: Session, name: string, faults: Faults): Promise<void> {
  faults.commitThrows = new Error('store driver bug');
  await expect(session.setVariable(name, 2)).rejects.toMatchObject({ code: 'process_exited' });
  faults.commitThrows = undefined;
}
