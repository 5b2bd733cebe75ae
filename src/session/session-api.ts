/**
 * What every session handle offers, whether it drives a session in this process (`Session`, of an embedded runtime
 * or a NATS node's own API) or on the nodes through the remote client (`RemoteSession`): code typed against it
 * runs unchanged on either, as the examples do.
 * @module
 */
import type { ModuleApi } from '../modules/module-api.js';
import type { ModuleSpec } from '../modules/module-spec.js';
import type { ExportedVariable } from '../variables/record.js';
import type { DefineVariableOptionsFor, VariableRecord, VariableType } from '../variables/types.js';
import type {
  ImportVariablesOptions,
  SetVariableOptions,
  SetVariablesOptions,
  UpdateVariableOptions,
  VariableHistoryOptions,
} from './options.js';
import type { SessionContext, Unwatch, VariableListener, WatchVariablesOptions } from './session-context.js';
import type { VariableHistoryEntry } from './variable-history.js';
import type { SetOutcome } from './write-plan.js';

/** A session handle of either kind; see `Session` and `RemoteSession` for how each goes about each call. */
export interface SessionApi extends SessionContext {
  /** Defines a variable; `AlreadyExistsError` when the name is taken. */
  defineVariable<T extends VariableType>(
    name: string,
    type: T,
    value: unknown,
    options?: DefineVariableOptionsFor<T>,
  ): Promise<VariableRecord>;
  /** The variable's value; with `default`, that value for a variable that does not exist. */
  getVariable(name: string, options?: { readonly default?: unknown }): Promise<unknown>;
  /** The variable's record (type, constraints, version, timestamps, lock). */
  describeVariable(name: string): Promise<VariableRecord>;
  /** Whether the variable exists. */
  hasVariable(name: string): Promise<boolean>;
  /** The records of the variables whose names match the glob `pattern` (`*` by default), sorted by name. */
  listVariables(pattern?: string): Promise<VariableRecord[]>;
  /** The values of `names` from one consistent state of the session; the names that do not exist in `missing`. */
  getVariables(names: readonly string[]): Promise<{ found: Record<string, unknown>; missing: string[] }>;
  /**
   * Validates and writes a value (compare-and-set with `expectedVersion` or `expectedId`); a refused write changes
   * nothing and rejects with a typed error (`ValidationError`, `VersionConflictError`, `VariableLockedError`, ...).
   */
  setVariable(name: string, value: unknown, options?: SetVariableOptions): Promise<VariableRecord>;
  /** Atomic read-modify-write, retried when another writer got in first. */
  updateVariable(
    name: string,
    fn: (value: unknown) => unknown,
    options?: UpdateVariableOptions,
  ): Promise<VariableRecord>;
  /** Deletes the variable and its history; `updatedBy` is checked against its lock and told to its watchers. */
  deleteVariable(name: string, options?: { readonly updatedBy?: string }): Promise<void>;
  /** Writes several variables: all or nothing with `atomic`, otherwise each name with its own outcome. */
  setVariables(
    values: Readonly<Record<string, unknown>>,
    options?: SetVariablesOptions,
  ): Promise<Record<string, SetOutcome>>;
  /** The variable's kept versions, oldest first (the newest `limit` with `limit`). */
  variableHistory(name: string, options?: VariableHistoryOptions): Promise<VariableHistoryEntry[]>;
  /** Writes, as a new version, the value the variable held at `version`. */
  rollbackVariable(name: string, version: number, options?: { readonly updatedBy?: string }): Promise<VariableRecord>;
  /** Locks the variable for `owner`: anyone else's write gets `VariableLockedError`. */
  lockVariable(name: string, owner: string): Promise<VariableRecord>;
  /** Releases `owner`'s lock; releasing someone else's gives `VariableLockedError`. */
  unlockVariable(name: string, owner: string): Promise<VariableRecord>;
  /** Every variable in the JSON-safe form `importVariables` takes, here or in another session; locks are not kept. */
  exportVariables(): Promise<ExportedVariable[]>;
  /**
   * Defines exported variables, all or nothing, each checked as `defineVariable` checks it (`replace` overwrites those
   * that exist, else `AlreadyExistsError`); resolves with how many were imported.
   */
  importVariables(records: readonly unknown[], options?: ImportVariablesOptions): Promise<number>;
  /**
   * Calls `listener` for every accepted write to a variable whose name matches the glob `pattern`, in version order
   * (with `includeInitial`, each match's current value first); resolves with the function that stops the watch.
   */
  watchVariables(pattern: string, listener: VariableListener, options?: WatchVariablesOptions): Promise<Unwatch>;
  /** With a spec, creates module `id`; without one, the module `id` that exists. */
  module(id: string, spec?: ModuleSpec): Promise<ModuleApi>;
  /** The session's modules. */
  modules(): Promise<ModuleApi[]>;
  /** Releases the handle (and, in this process, what it runs of the session); see each class for how far it goes. */
  stop(): Promise<void>;
  /** Deletes the session with its variables and modules. */
  delete(): Promise<void>;
}
