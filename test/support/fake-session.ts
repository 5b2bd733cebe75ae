/**
 * A small in-memory `SessionContext` for module tests: versioned values, glob watches, and switches to make
 * reads fail or count them. Not a Session: no types, constraints or store.
 */
import { VariableNotFoundError } from '../../src/errors.js';
import { compileGlob } from '../../src/variables/glob.js';
import type {
  SessionContext,
  Unwatch,
  VariableListener,
  VariableSnapshot,
  VersionedValue,
  WatchVariablesOptions,
} from '../../src/session/session-context.js';

interface Watch {
  readonly matches: (name: string) => boolean;
  readonly listener: VariableListener;
}

/** An in-memory session for tests. */
export class FakeSession implements SessionContext {
  readonly values = new Map<string, { value: unknown; version: number }>();
  readonly #watches = new Set<Watch>();
  /** When set, `readVariables` rejects with it (to test sync failures). */
  failReadsWith: Error | undefined;
  /** How many times `readVariables` was called. */
  reads = 0;

  constructor(
    readonly sessionId = 'test-session',
    initial: Record<string, unknown> = {},
  ) {
    for (const [name, value] of Object.entries(initial)) this.values.set(name, { value, version: 1 });
  }

  async getVariable(name: string): Promise<unknown> {
    const entry = this.values.get(name);
    if (!entry) throw new VariableNotFoundError(this.sessionId, name);
    return entry.value;
  }

  async setVariable(name: string, value: unknown): Promise<unknown> {
    const previous = this.values.get(name);
    const version = (previous?.version ?? 0) + 1;
    this.values.set(name, { value, version });
    for (const watch of this.#watches) {
      if (watch.matches(name)) {
        watch.listener({ name, oldValue: previous?.value, newValue: value, version, updatedBy: null });
      }
    }
    return value;
  }

  /** Removes a variable (as a delete in a real session would). */
  deleteVariable(name: string): void {
    this.values.delete(name);
  }

  async readVariables(names: readonly string[]): Promise<VariableSnapshot> {
    this.reads++;
    if (this.failReadsWith) throw this.failReadsWith;
    const found: Record<string, VersionedValue> = {};
    const missing: string[] = [];
    for (const name of names) {
      const entry = this.values.get(name);
      if (entry) found[name] = { value: entry.value, version: entry.version };
      else missing.push(name);
    }
    return { found, missing };
  }

  async watchVariables(
    pattern: string,
    listener: VariableListener,
    options: WatchVariablesOptions = {},
  ): Promise<Unwatch> {
    const watch: Watch = { matches: compileGlob(pattern), listener };
    if (options.includeInitial) {
      for (const [name, entry] of this.values) {
        if (watch.matches(name))
          listener({ name, oldValue: undefined, newValue: entry.value, version: entry.version, updatedBy: null });
      }
    }
    this.#watches.add(watch);
    return () => {
      this.#watches.delete(watch);
    };
  }

  /** How many watches are open (to check that resolvers close theirs). */
  get watchCount(): number {
    return this.#watches.size;
  }
}
