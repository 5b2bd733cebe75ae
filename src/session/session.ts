/**
 * The Session handle: the API over one session process. Reads come straight from the process's committed
 * state (no message round trip, as DSPex read ETS); writes are calls that the process carries out one at a
 * time with compare-and-set against the store.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createVariableRecord, exportRecord, type ExportedVariable } from '../variables/record.js';
import type { DefineVariableOptionsFor, VariableRecord, VariableType } from '../variables/types.js';
import { valueAsCalled } from '../variables/value-as-called.js';
import { assertVariableName } from '../variables/names.js';
import { compileGlob } from '../variables/glob.js';
import { assertListener, assertLockArguments } from './argument-checks.js';
import { argumentsBeforeGone } from './arguments-first.js';
import { importRequest, setManyRequest } from './batch-requests.js';
import {
  assertOptions,
  type ImportVariablesOptions,
  type SetVariableOptions,
  type SetVariablesOptions,
  type UpdateVariableOptions,
} from './options.js';
import type { Unwatch, VariableListener, WatchVariablesOptions } from './session-context.js';
import type { SessionApi } from './session-api.js';
import { HandleWatches } from './handle-watches.js';
import type { SessionHost, SessionProcess } from './session-host.js';
import { SessionReads } from './session-reads.js';
import type { SetOutcome } from './write-plan.js';
import { initialChanges } from './variable-reads.js';
import { updateVariableInTurn } from './update-with-retry.js';
import { rollbackVariable } from './rollback-variable.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import { assertModuleId, assertModuleSpec, type ModuleSpec } from '../modules/module-spec.js';

export type {
  ImportVariablesOptions,
  SessionOptions,
  SetVariableOptions,
  SetVariablesOptions,
  UpdateVariableOptions,
  VariableHistoryOptions,
} from './options.js';

/**
 * A session: typed, constrained variables with versions, history, locks and watches.
 *
 * What it returns of its variables (records, values, constraints, metadata, watch changes) is deep-frozen; the lists,
 * maps, history and export entries and batch outcomes a call builds for its answer are the caller's to change.
 * @example
 * const session = await runtime.session('s1');
 * await session.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
 * await session.setVariable('temperature', 0.9);
 */
export class Session extends SessionReads implements SessionApi {
  /** The watches made through this handle, ended by its {@link stop}. */
  readonly #watches = new HandleWatches();

  /** Not for direct use: sessions are obtained from `runtime.session(id)`. */
  constructor(sessionId: string, process: SessionProcess, host: SessionHost) {
    super(sessionId, process, host);
  }

  /** Defines a new variable; a name that exists already gives `AlreadyExistsError` and keeps the original. */
  async defineVariable<T extends VariableType>(
    name: string,
    type: T,
    value: unknown,
    options: DefineVariableOptionsFor<T> = {},
  ): Promise<VariableRecord> {
    // Built (and so checked) before the process is asked: wrong arguments are refused whatever the session's state.
    const record = createVariableRecord({ id: randomUUID(), name, type, value, options, at: now() });
    return (await this.link.write({ kind: 'define', record })) as VariableRecord;
  }

  /** Validates and writes a value; a refused write changes nothing and rejects with a typed error. */
  async setVariable(name: string, value: unknown, options: SetVariableOptions = {}): Promise<VariableRecord> {
    assertOptions(options, 'setVariable');
    // Copied now: the write is planned in its turn, and the caller may change its object meanwhile.
    const request = { kind: 'set' as const, name, value: valueAsCalled(value), ...options, at: now() };
    return (await argumentsBeforeGone(this.link.write(request), () => assertVariableName(name))) as VariableRecord;
  }

  /**
   * Atomic read-modify-write: applies `fn` to the current value and writes the result with compare-and-set,
   * re-reading and retrying (after a short random pause) when another writer got in first. This runtime's
   * updates of one variable take turns, so they only ever race writers elsewhere (other nodes, `setVariable`);
   * a slow `fn` holds up the updates queued behind it, and an `fn` that updates its own variable before it has
   * settled is refused (it would wait for itself); a listener told of the write may update it.
   */
  async updateVariable(
    name: string,
    fn: (value: unknown) => unknown,
    options: UpdateVariableOptions = {},
  ): Promise<VariableRecord> {
    return updateVariableInTurn(this.host.updates, this, name, fn, options);
  }

  /**
   * Deletes a variable, and its history with it (only the delete is kept). `updatedBy` names who deletes: it
   * is checked against the lock (a locked variable is deleted only by its owner) and kept with the delete marker, so
   * every watcher of the deletion, on this node and on others, and its event report it; without it they report
   * `updatedBy: null`.
   */
  async deleteVariable(name: string, options: { readonly updatedBy?: string } = {}): Promise<void> {
    assertOptions(options, 'deleteVariable');
    const deleted = this.link.write({ kind: 'delete', name, ...options, at: now() });
    await argumentsBeforeGone(deleted, () => assertVariableName(name));
  }

  /**
   * Writes several variables. `atomic`: all or nothing, rejecting with the first refusal. Otherwise every
   * valid value is written and each name gets its own outcome: a batch that loses a race to another writer goes on
   * one name per write, and a name changed under each try is answered alone with `version_conflict`.
   */
  async setVariables(
    values: Readonly<Record<string, unknown>>,
    options: SetVariablesOptions = {},
  ): Promise<Record<string, SetOutcome>> {
    return (await this.link.write(setManyRequest(values, options, now()))) as Record<string, SetOutcome>;
  }

  /** Writes, as a new version, the value the variable held at `version`. */
  async rollbackVariable(
    name: string,
    version: number,
    options: { readonly updatedBy?: string } = {},
  ): Promise<VariableRecord> {
    return rollbackVariable(
      {
        sessionId: this.sessionId,
        store: this.host.store,
        live: () => this.link.live(),
        describeFresh: (variable) => this.describeFresh(variable),
        setVariable: (...write) => this.setVariable(...write),
      },
      name,
      version,
      options,
    );
  }

  /**
   * Locks a variable for `owner`: writes from anyone else (batches included) get `VariableLockedError`. A lock makes
   * no version, but it is a write of the variable's key, and counts towards the writes its store keeps
   * (`historyDepth`), as the unlock does.
   */
  async lockVariable(name: string, owner: string): Promise<VariableRecord> {
    const locked = this.link.write({ kind: 'lock', name, owner, at: now() });
    return (await argumentsBeforeGone(locked, () => assertLockArguments(name, owner))) as VariableRecord;
  }

  /** Releases `owner`'s lock; releasing someone else's lock gives `VariableLockedError`. */
  async unlockVariable(name: string, owner: string): Promise<VariableRecord> {
    const unlocked = this.link.write({ kind: 'unlock', name, owner, at: now() });
    return (await argumentsBeforeGone(unlocked, () => assertLockArguments(name, owner))) as VariableRecord;
  }

  /**
   * Every variable in a JSON-safe form that `importVariables` accepts, here or in another session. Locks are not
   * exported: a lock names a holder of this session (a client, a process), and an import starts its own history.
   */
  async exportVariables(): Promise<ExportedVariable[]> {
    return (await this.listVariables()).map(exportRecord);
  }

  /**
   * Defines the exported variables, all or nothing, each checked as strictly as `defineVariable`. With `replace`, a
   * locked variable is replaced only when `updatedBy` is its lock's owner, and stays locked, as after the owner's
   * `setVariable`.
   */
  async importVariables(records: readonly unknown[], options: ImportVariablesOptions = {}): Promise<number> {
    return (await this.link.write(importRequest(records, options, now()))) as number;
  }

  /**
   * Calls `listener` for every accepted write to a variable whose name matches `pattern`, in version order;
   * with `includeInitial`, each matching variable's current value comes first, in name order. Writes made through other
   * runtimes are included: on a NATS node a watched session does not hibernate (watching a hibernated one wakes
   * it), so it keeps hearing other nodes' writes, new variables that match included, and it hibernates once idle
   * again after its last watch here is removed. An embedded session still expires after its idle TTL (watches do
   * not count as use), and its watches end with it.
   */
  async watchVariables(
    pattern: string,
    listener: VariableListener,
    options: WatchVariablesOptions = {},
  ): Promise<Unwatch> {
    assertOptions(options, 'watchVariables');
    assertListener(listener);
    const variables = await argumentsBeforeGone(this.link.variables(), () => compileGlob(pattern));
    const initial = options.includeInitial ? initialChanges(variables) : [];
    // A stop that came while the process was read (or woken) for this watch ended the handle's watches already.
    if (this.#watches.stopping) throw this.link.ended('stopped');
    return this.#watches.add(this.host.watchers.add(this.sessionId, pattern, listener, initial));
  }

  /**
   * With a spec, starts module `id` of this session as a process (`AlreadyExistsError` when the id is taken); without
   * one, the running module `id` (`ModuleNotFoundError` when there is none). On a NATS node that includes a module
   * created through another node: its process is woken here from the modules bucket. A spec is checked before anything
   * starts: a type no module is registered under is `UnknownModuleError` (`unknown_module`), a binding to a variable
   * the session does not have `VariableNotFoundError` (`variable_not_found`), a malformed spec or signature, or a bound
   * value the attribute refuses, `ValidationError`.
   * @example
   * await session.defineVariable('llm_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
   * const qa = await session.module('qa', {
   *   type: 'ChainOfThought',
   *   signature: 'question -> answer',
   *   bindings: { temperature: 'llm_temperature' },
   * });
   */
  async module(id: string, spec?: ModuleSpec): Promise<ModuleHandle> {
    const process = await argumentsBeforeGone(this.link.live(), () => {
      assertModuleId(id);
      if (spec !== undefined) assertModuleSpec(spec);
    });
    if (spec === undefined) return this.host.modules.find(this, id);
    const handle = await this.host.modules.create(this, id, spec);
    // The session may have ended while the module was being built: a module must not outlive its session.
    const ending = process.alive ? undefined : process.ending();
    if (ending === 'stopped' || ending === 'expired' || ending === 'deleted' || ending === 'shutdown') {
      // The session's end is what the caller must hear; a spec left behind if the stop cannot reach the bucket is
      // one other nodes serve, as after a session stop.
      await handle.stop().catch(() => undefined);
      throw this.link.ended(ending);
    }
    return handle;
  }

  /**
   * The modules of this session running on this node, sorted by id, as a remote client's `modules()` lists them
   * (a client's list comes from the modules bucket, which keeps no start order). On a NATS node that leaves out the
   * modules running only elsewhere: `module(id)` reaches them (waking them here), and a remote client's `modules()`
   * lists every module of the session. Listing does not wake them: a module that cannot start on this node (a tool it
   * lacks) must not hide the others, nor should a listing start a process for each.
   */
  async modules(): Promise<ModuleHandle[]> {
    await this.link.live();
    return this.host.modules.list(this.sessionId);
  }

  /**
   * Stops the session process and its modules' processes; its variables stay in the store (`delete` removes them).
   * On a NATS node only this node's processes stop: the session stays shared, and a request for it on any node
   * (this one included) wakes them again. Later calls on this handle get `SessionError`, and the watches made
   * through it end: their listeners hear nothing more, also of writes made through another handle.
   */
  async stop(): Promise<void> {
    this.#watches.beginStop();
    try {
      await this.link.stop();
    } finally {
      // The handle is done: its watches end with it, as they end when the session expires or is deleted.
      this.#watches.endAll();
    }
  }

  /**
   * Deletes the session for good: its processes end (on NATS on every node, a write in flight first), its variables
   * go with their whole history, and its modules. Its handles then get `SessionError` (`session_not_found`; a handle
   * stopped before still says `session_stopped` first), its watchers are dropped, `runtime.session(id)` starts an
   * empty session. One already gone rejects, changing nothing, with why, as the handle's other calls say:
   * `session_not_found` once deleted, `session_expired` once expired.
   * Embedded runtimes sharing one store all end it (they hear a delete marker under the session's `=ended` key).
   */
  async delete(): Promise<void> {
    await this.link.delete();
  }
}

function now(): string {
  return new Date().toISOString();
}
