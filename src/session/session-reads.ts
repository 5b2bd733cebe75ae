/**
 * The read side of a session handle: the calls that answer from the process's committed state (no message round
 * trip, as DSPex read ETS) or, for a variable's history, from the store. `Session` adds the writes, watches, modules
 * and the session's life on top.
 * @module
 */
import { BridgeError, VariableNotFoundError } from '../errors.js';
import { assertVariableName } from '../variables/names.js';
import { compileGlob } from '../variables/glob.js';
import type { VariableRecord } from '../variables/types.js';
import { stampOf } from './apply-store-change.js';
import { assertNamesArray } from './argument-checks.js';
import { argumentsBeforeGone } from './arguments-first.js';
import { assertOptions, type VariableHistoryOptions } from './options.js';
import type { SessionContext, TypedVersionedValue, VariableSnapshot } from './session-context.js';
import type { SessionHost, SessionProcess } from './session-host.js';
import { SessionProcessLink } from './session-process-link.js';
import { variableKey } from './write-plan.js';
import { historyOf, type VariableHistoryEntry } from './variable-history.js';
import { byName, snapshotOf, valuesOf } from './variable-reads.js';

/**
 * The reads of a `Session` handle (see `Session`, the class to use): values, records, listings, consistent snapshots
 * and kept versions of its variables. It holds the handle's tie to the session's process, which `Session`'s writes
 * use too.
 */
export abstract class SessionReads {
  readonly #link: SessionProcessLink;

  /** Not for direct use: sessions are obtained from `runtime.session(id)`. */
  constructor(
    readonly sessionId: string,
    process: SessionProcess,
    protected readonly host: SessionHost,
  ) {
    this.#link = new SessionProcessLink(sessionId, process, host);
  }

  /** The tie to the session's process, for the writes and the life calls of `Session`. */
  protected get link(): SessionProcessLink {
    return this.#link;
  }

  /**
   * On a NATS node, the life of the session this handle serves (its record's `incarnation`: deleted or expired and
   * opened again, an id is another session); `undefined` on an embedded runtime.
   */
  get incarnation(): string | undefined {
    return this.#link.process.incarnation;
  }

  /** The variable's value; `options.default` is returned for a missing variable instead of an error. */
  async getVariable(name: string, options?: { readonly default?: unknown }): Promise<unknown> {
    assertOptions(options, 'getVariable');
    const record = (await this.#variablesFor(name)).get(name);
    if (record) return record.value;
    // A name no variable can have is a mistake to report, not a miss to cover with the default.
    const notFound = this.#notFound(name);
    if (options !== undefined && 'default' in options) return options.default;
    throw notFound;
  }

  /** The whole variable record: type, value, constraints, description, metadata, version, times, lock. */
  async describeVariable(name: string): Promise<VariableRecord> {
    const record = (await this.#variablesFor(name)).get(name);
    if (!record) throw this.#notFound(name);
    return record;
  }

  /**
   * @internal {@link describeVariable} for `updateVariable`'s read: a variable the process's view does not hold is
   * read from the store. A view lags the store (a define made through another node, or another runtime on the store,
   * not routed here yet), and an update must not be refused on it, as a write is not (see `refusalChecks`). Only a
   * miss pays for the store read; a store that cannot answer leaves the view's answer.
   */
  async describeFresh(name: string): Promise<VariableRecord> {
    const record = (await this.#variablesFor(name)).get(name);
    if (record) return record;
    const notFound = this.#notFound(name);
    const stored = await this.host.store.get(variableKey(this.sessionId, name)).catch(() => undefined);
    if (!stored) throw notFound;
    return stored.value;
  }

  /** Whether the variable exists. */
  async hasVariable(name: string): Promise<boolean> {
    if ((await this.#variablesFor(name)).has(name)) return true;
    // Only a miss pays for the check: a stored name is valid.
    assertVariableName(name);
    return false;
  }

  /** Records of the variables whose names match the glob (`*` only; anchored), sorted by name. */
  async listVariables(pattern = '*'): Promise<VariableRecord[]> {
    const matches = compileGlob(pattern);
    const records = [...(await this.#link.variables()).values()].filter((record) => matches(record.name));
    return records.sort(byName);
  }

  /** Values of several variables, with the names that do not exist listed apart. */
  async getVariables(names: readonly string[]): Promise<{ found: Record<string, unknown>; missing: string[] }> {
    return valuesOf(await this.readVariables(names));
  }

  /**
   * Values and versions of several variables, read from one consistent state of the session.
   * @throws {ValidationError} when a name it did not find is no valid variable name (as `getVariables`)
   */
  async readVariables(names: readonly string[]): Promise<VariableSnapshot<TypedVersionedValue>> {
    const snapshot =
      this.readVariablesNow(names) ??
      snapshotOf(
        await argumentsBeforeGone(this.#link.variables(), () => names.forEach((name) => assertVariableName(name))),
        names,
      );
    // Only the names not found can be invalid; a module's sync, which reads through `readVariablesNow`, skips this.
    for (const name of snapshot.missing) assertVariableName(name);
    return snapshot;
  }

  /** @internal {@link SessionContext.use}: a module's execution is a use of its session until it ends. */
  use(): Promise<unknown> | undefined {
    return this.#link.use();
  }

  /** {@link readVariables} at once while the session's process is alive; `undefined` otherwise. */
  readVariablesNow(names: readonly string[]): VariableSnapshot<TypedVersionedValue> | undefined {
    assertNamesArray(names);
    const variables = this.#link.variablesNow();
    return variables && snapshotOf(variables, names);
  }

  /** See {@link SessionContext.variablesStamp}; `undefined` while the session's process is not alive. */
  variablesStamp(): number | undefined {
    const variables = this.#link.variablesNow();
    return variables && stampOf(variables);
  }

  /**
   * Every kept version of the variable, oldest first (bounded by the store's history depth); with `limit`, only the
   * newest that many.
   */
  async variableHistory(name: string, options: VariableHistoryOptions = {}): Promise<VariableHistoryEntry[]> {
    return (await this.recordHistory(name, options)).entries;
  }

  /**
   * @internal {@link variableHistory} with the record whose versions it lists: a node paging a history tells its
   * client which variable the pages are of, so that a variable defined again between two pages is noticed.
   */
  async recordHistory(
    name: string,
    options: VariableHistoryOptions = {},
  ): Promise<{ record: VariableRecord; entries: VariableHistoryEntry[] }> {
    assertOptions(options, 'variableHistory');
    const record = await this.describeVariable(name);
    const entries = historyOf(record, await this.host.store.history(variableKey(this.sessionId, name)));
    return { record, entries: options.limit === undefined ? entries : entries.slice(-options.limit) };
  }

  /**
   * The committed variables, for a read of `name`: a session that is gone has the name judged first
   * (arguments-first.ts). The path where the process is alive awaits nothing more and checks nothing more.
   */
  #variablesFor(name: string): ReadonlyMap<string, VariableRecord> | Promise<ReadonlyMap<string, VariableRecord>> {
    return this.#link.variablesNow() ?? argumentsBeforeGone(this.#link.variables(), () => assertVariableName(name));
  }

  #notFound(name: string): BridgeError {
    assertVariableName(name);
    return new VariableNotFoundError(this.sessionId, name);
  }
}
