/**
 * The index of a node's modules: each {@link ModuleEntry} by its key (`<session>.<module>`) and by session, and
 * each module's program by key, which the module logic reads when it starts a process. A session's hibernation,
 * stop and listing touch only that session's modules, not every module of the node (an idle sweep hibernates
 * thousands of sessions at once).
 * @module
 */
import type { ModuleInstance } from '../modules/module-instance.js';
import type { ModuleEntry } from './module-entry.js';

/** A node's module entries and programs, by key and by session. */
export class ModuleEntries {
  /** The programs by key, as `createModuleLogic` reads them. */
  readonly instances = new Map<string, ModuleInstance>();
  readonly #byKey = new Map<string, ModuleEntry>();
  readonly #bySession = new Map<string, Set<ModuleEntry>>();

  /** The entry of a key, if the node has one. */
  get(key: string): ModuleEntry | undefined {
    return this.#byKey.get(key);
  }

  /** Every entry, copied: ending one changes the index. */
  all(): ModuleEntry[] {
    return [...this.#byKey.values()];
  }

  /** A session's entries, copied: hibernating or stopping one changes the index. */
  ofSession(sessionId: string): ModuleEntry[] {
    return [...(this.#bySession.get(sessionId) ?? [])];
  }

  /** Whether one of a session's entries passes `test`, without copying them (asked of every session at each stamp). */
  someOfSession(sessionId: string, test: (entry: ModuleEntry) => boolean): boolean {
    for (const entry of this.#bySession.get(sessionId) ?? []) if (test(entry)) return true;
    return false;
  }

  /** Adds a started entry (in place of any entry of its key). */
  add(entry: ModuleEntry): void {
    this.instances.set(entry.key, entry.instance);
    this.#byKey.set(entry.key, entry);
    const { sessionId } = entry.handle;
    let ofSession = this.#bySession.get(sessionId);
    if (!ofSession) this.#bySession.set(sessionId, (ofSession = new Set()));
    ofSession.add(entry);
  }

  /** Forgets an entry that stopped for good, unless another entry has its key by now. */
  forget(entry: ModuleEntry): void {
    if (this.#byKey.get(entry.key) !== entry) return;
    this.#byKey.delete(entry.key);
    this.instances.delete(entry.key);
    const { sessionId } = entry.handle;
    const ofSession = this.#bySession.get(sessionId);
    ofSession?.delete(entry);
    if (ofSession?.size === 0) this.#bySession.delete(sessionId);
  }
}
