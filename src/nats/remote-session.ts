/**
 * A session served by Tether nodes over NATS, with the embedded `Session`'s method names, options, return
 * shapes and typed errors, so code written against one runs against the other. Values are decoded with the
 * variable codec (non-finite floats travel as strings); a value JSON would change travels tagged (see
 * tagged-values.ts), so a node accepts or refuses it as the embedded runtime does; `updateVariable` is
 * compare-and-set from here.
 * @module
 */
import type { ModuleDescription } from '../../machines/module.machine.js';
import { VariableNotFoundError } from '../errors.js';
import type {
  ImportVariablesOptions,
  SetVariableOptions,
  SetVariablesOptions,
  UpdateVariableOptions,
  VariableHistoryOptions,
} from '../session/session.js';
import type {
  TypedVersionedValue,
  Unwatch,
  VariableListener,
  VariableSnapshot,
  WatchVariablesOptions,
} from '../session/session-context.js';
import { assertHistoryVersion, type VariableHistoryEntry } from '../session/variable-history.js';
import type { SetOutcome } from '../session/write-plan.js';
import { updateVariableInTurn } from '../session/update-with-retry.js';
import { valuesOf } from '../session/variable-reads.js';
import {
  assertDefinition,
  assertListener,
  assertLockArguments,
  assertNamesArray,
  assertRecordsArray,
  assertValuesObject,
} from '../session/argument-checks.js';
import { assertOptions } from '../session/options.js';
import { readOptions } from '../option-keys.js';
import type { ExportedVariable } from '../variables/record.js';
import { compileGlob } from '../variables/glob.js';
import { assertVariableName } from '../variables/names.js';
import { assertModuleId, type ModuleSpec } from '../modules/module-spec.js';
import { toWireSpec, type WireModuleSpec } from './module-wire-spec.js';
import { RemoteModuleHandle } from './remote-module.js';
import { SessionHandleScope, type ClientState } from './session-handle-scope.js';
import type { DefineVariableOptionsFor, VariableRecord, VariableType } from '../variables/types.js';
import type { RemoteTransport } from './remote-transport.js';
import { readHistoryPages } from './paged-reads.js';
import { SessionRequests } from './session-requests.js';
import { watchSession } from './session-watch.js';
import { tagRequest } from './tagged-values.js';
import { decodeRecord, decodeWireValue } from './wire.js';
import type { SessionApi } from '../session/session-api.js';

/** A read as `get` and `getMany` answer it. */
interface TypedRead {
  readonly value: unknown;
  readonly version: number;
  readonly type: VariableType | null;
  /** The variable's identity (getMany only; see VersionedValue.id). */
  readonly id?: unknown;
}

/**
 * A remote session handle; obtained from `client.session(id)`.
 *
 * What it returns is frozen as the embedded `Session`'s is: records, values, constraints, metadata and watch changes
 * deeply, the lists, maps, history and export entries and batch outcomes a call builds for its answer not at all.
 * @example
 * const session = await client.session('chat-1');
 * await session.setVariable('temperature', 0.9);
 * const stop = await session.watchVariables('*', (change) => console.log(change.name, change.newValue));
 */
export class RemoteSession implements SessionApi {
  /** Shared with the module handles and watches this handle gives out: its stop, and whether its life ended. */
  readonly #scope: SessionHandleScope;
  /** This handle's requests, bound to its scope. */
  readonly #requests: SessionRequests;

  /**
   * Whether the `open` that gave this handle began its session's life (the session did not exist): `false` when it
   * found the session there, for a handle got with `create: false`, and from a node too old to say. A client that
   * opened a session only for one write can tell by it whether the session is its own to remove again, should that
   * write be refused (as the CLI's `var define` does, see open-if-accepted.ts).
   */
  readonly created: boolean;

  /**
   * Not for direct use: handles come from `client.session(id)`; `incarnation`: the life `open` replied with;
   * `client`: the state of the client giving the handle out (its `close()`); `created`: see
   * {@link RemoteSession.created}.
   */
  constructor(
    readonly sessionId: string,
    private readonly transport: RemoteTransport,
    incarnation?: string,
    client?: ClientState,
    created = false,
  ) {
    this.#scope = new SessionHandleScope(sessionId, incarnation, client);
    this.#requests = new SessionRequests(transport, this.#scope);
    this.created = created;
  }

  /**
   * The life of the session this handle is bound to: the `incarnation` its `open` replied with. Every request of this
   * handle (and of the module handles got from it) carries it (`Tether-Incarnation`), so once that life ends
   * (deleted, or expired) the handle gets `session_not_found` or `session_expired`, even after the id has been opened
   * again: it never reads or writes the next life's variables, nor runs its modules. `undefined` for a handle got
   * with `create: false`, which knows no life and addresses whichever is current.
   */
  get incarnation(): string | undefined {
    return this.#scope.incarnation;
  }

  /** Defines a new variable; an existing name gives `AlreadyExistsError`. */
  async defineVariable<T extends VariableType>(
    name: string,
    type: T,
    value: unknown,
    options: DefineVariableOptionsFor<T> = {},
  ): Promise<VariableRecord> {
    // Refused here with the embedded definition's own check: JSON cannot carry some mistakes (a bigint type, a
    // cyclic value), and a node names the request's fields rather than the variable. Checked before the handle's
    // stop, as an embedded session checks a definition before it reaches the process.
    assertDefinition(name, type, value, options);
    this.#scope.assertOpen();
    return decodeRecord(
      await this.#requests.variable('define', tagRequest({ name, type, value, options }, ['value', 'options'])),
    );
  }

  /** The variable's value; `options.default` is returned for a missing variable instead of an error. */
  async getVariable(name: string, options?: { readonly default?: unknown }): Promise<unknown> {
    assertOptions(options, 'getVariable');
    try {
      const read = (await this.#requests.variable('get', { name })) as TypedRead;
      return decodeWireValue(read.type, read.value);
    } catch (error) {
      if (error instanceof VariableNotFoundError && options !== undefined && 'default' in options)
        return options.default;
      throw error;
    }
  }

  /** The whole variable record. */
  async describeVariable(name: string): Promise<VariableRecord> {
    return decodeRecord(await this.#requests.variable('describe', { name }));
  }

  /**
   * @internal {@link describeVariable} for `updateVariable`'s read: the node reads a variable its view does not hold
   * from the bucket (`fresh`), so an update is not refused on a node that has not heard of its define yet.
   */
  async describeFresh(name: string): Promise<VariableRecord> {
    return decodeRecord(await this.#requests.variable('describe', { name, fresh: true }));
  }

  /** Whether the variable exists. */
  async hasVariable(name: string): Promise<boolean> {
    return (await this.#requests.variable('has', { name })) as boolean;
  }

  /** Records of the variables whose names match the glob, sorted by name. */
  async listVariables(pattern = '*'): Promise<VariableRecord[]> {
    // Checked here as the embedded handle and `watchVariables` check it: the node would name the request's field.
    compileGlob(pattern);
    return (await this.#requests.list(pattern)).records;
  }

  /** Values of several variables, with the missing names apart. */
  async getVariables(names: readonly string[]): Promise<{ found: Record<string, unknown>; missing: string[] }> {
    return valuesOf(await this.readVariables(names));
  }

  /** Values and versions of several variables, read from one consistent state of the session. */
  async readVariables(names: readonly string[]): Promise<VariableSnapshot<TypedVersionedValue>> {
    assertNamesArray(names);
    // A variable found always has its type (`null` is `get`'s for a default given in its place).
    type Found = TypedRead & { readonly type: VariableType };
    const reply = (await this.#requests.variable('getMany', { names })) as {
      found: Record<string, Found>;
      missing: string[];
    };
    const found = Object.entries(reply.found).map(([name, read]) => {
      const typed = { value: decodeWireValue(read.type, read.value), version: read.version, type: read.type };
      return [name, typeof read.id === 'string' ? { ...typed, id: read.id } : typed];
    });
    return { found: Object.fromEntries(found), missing: reply.missing };
  }

  /** Validates and writes a value on a node; a refused write changes nothing and rejects with a typed error. */
  async setVariable(name: string, value: unknown, options: SetVariableOptions = {}): Promise<VariableRecord> {
    assertOptions(options, 'setVariable');
    return decodeRecord(await this.#requests.variable('set', tagRequest({ ...options, name, value }, ['value'])));
  }

  /**
   * Read-modify-write with compare-and-set from this client: reads the variable, applies `fn`, writes with
   * `expectedVersion`, and on a conflict backs off briefly and starts again. This client's updates of one
   * variable take turns, so they only ever race other clients.
   */
  updateVariable(
    name: string,
    fn: (value: unknown) => unknown,
    options: UpdateVariableOptions = {},
  ): Promise<VariableRecord> {
    return updateVariableInTurn(this.transport.updates, this, name, fn, options);
  }

  /** Deletes a variable. */
  async deleteVariable(name: string, options: { readonly updatedBy?: string } = {}): Promise<void> {
    assertOptions(options, 'deleteVariable');
    await this.#requests.variable('delete', { ...options, name });
  }

  /** Writes several variables; `atomic`: all or nothing. Otherwise each name gets its own outcome. */
  async setVariables(
    values: Readonly<Record<string, unknown>>,
    options: SetVariablesOptions = {},
  ): Promise<Record<string, SetOutcome>> {
    assertOptions(options, 'setVariables');
    assertValuesObject(values);
    // Each value read now, as the embedded call reads them before anything: one whose reading throws is refused so
    // by a stopped handle too, which sends nothing (tagRequest would carry the failure for the node to judge).
    readOptions(values, 'setVariables', 'value');
    const outcomes = await this.#requests.variable('setMany', tagRequest({ ...options, values }, ['values']));
    return outcomes as Record<string, SetOutcome>;
  }

  /**
   * Every kept version of the variable, oldest first; with `limit`, only the newest that many. Read a page at a time
   * when the versions are too large together for one reply.
   */
  async variableHistory(name: string, options: VariableHistoryOptions = {}): Promise<VariableHistoryEntry[]> {
    assertOptions(options, 'variableHistory');
    const { limit } = options;
    const entries = await readHistoryPages(name, (after) =>
      this.#requests.variable('history', {
        name,
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      }),
    );
    // A version written between two pages moves the node's window of the newest `limit` on.
    return limit === undefined ? entries : entries.slice(-limit);
  }

  /** Writes, as a new version, the value the variable held at `version`. */
  async rollbackVariable(
    name: string,
    version: number,
    options: { readonly updatedBy?: string } = {},
  ): Promise<VariableRecord> {
    assertOptions(options, 'rollbackVariable');
    // As an embedded rollback refuses them, the name first: a node would name the request's field, and JSON cannot
    // carry a bigint.
    assertVariableName(name);
    assertHistoryVersion(name, version);
    return decodeRecord(await this.#requests.variable('rollback', { ...options, name, version }));
  }

  /** Locks a variable for `owner`. */
  async lockVariable(name: string, owner: string): Promise<VariableRecord> {
    const judge = (): void => assertLockArguments(name, owner);
    this.#scope.assertOpen(judge);
    judge();
    return decodeRecord(await this.#requests.variable('lock', { name, owner }));
  }

  /** Releases `owner`'s lock. */
  async unlockVariable(name: string, owner: string): Promise<VariableRecord> {
    const judge = (): void => assertLockArguments(name, owner);
    this.#scope.assertOpen(judge);
    judge();
    return decodeRecord(await this.#requests.variable('unlock', { name, owner }));
  }

  /** Every variable in the JSON-safe export form. */
  async exportVariables(): Promise<ExportedVariable[]> {
    const exported = (await this.#requests.variable('export', {})) as ExportedVariable[];
    // Frozen as the embedded export's parts are (they are the stored record's own); already in their JSON form.
    for (const { value, constraints, metadata } of exported) {
      for (const part of [value, constraints, metadata]) decodeWireValue(null, part);
    }
    return exported;
  }

  /** Defines the exported variables, all or nothing. */
  async importVariables(records: readonly unknown[], options: ImportVariablesOptions = {}): Promise<number> {
    assertOptions(options, 'importVariables');
    assertRecordsArray(records);
    return (await this.#requests.variable('import', tagRequest({ ...options, records }, ['records']))) as number;
  }

  /**
   * Delivers every accepted write to a matching variable, published by the node that accepted it. The watch reads
   * the matching variables when it starts (so it rejects as `listVariables` would), again each time this
   * client's connection is back after dropping, to deliver in order the writes made meanwhile, and reads one
   * variable when its event skips versions (their node died before publishing them), to deliver those first; what
   * it can no longer tell comes with `gap: true` (see `VariableChange.gap`). The watch starts from its read, which
   * reflects this client's writes and what it has seen, not necessarily another client's write acknowledged just
   * before: a node that has not applied that write yet reads without it, and the watch then delivers it as a change.
   * The handle's {@link stop} ends the watch; one it overtakes as the watch starts ends too, its listener hearing
   * nothing (not even the values `includeInitial` asked for), and this rejects with `SessionError`
   * (`session_stopped`). Once the client closed, it rejects at once with that error (`details.client: 'closed'`);
   * once NATS was given up on, with `NatsConnectionError` (`closed`).
   */
  async watchVariables(
    pattern: string,
    listener: VariableListener,
    options: WatchVariablesOptions = {},
  ): Promise<Unwatch> {
    assertOptions(options, 'watchVariables');
    assertListener(listener);
    this.#scope.assertOpen();
    return watchSession(this.transport, this.#scope, pattern, listener, options, {
      list: (glob) => this.#requests.list(glob),
      history: (name) => this.variableHistory(name),
    });
  }

  /**
   * With a spec, creates module `id` of this session (its spec goes to the modules bucket, so any node can run it;
   * `AlreadyExistsError` when the id is taken, from whichever node); without one, the existing module `id`
   * (`ModuleNotFoundError` when there is none). The spec is JSON: tools by name, no functions. The node refuses a spec
   * as an embedded session does (`UnknownModuleError`, `VariableNotFoundError`, `ValidationError`).
   * @example
   * await session.defineVariable('temp', 'float', 0.7);
   * const spec = { type: 'Predict', signature: 'question -> answer', bindings: { temperature: 'temp' } } as const;
   * const qa = await session.module('qa', spec);
   */
  async module(id: string, spec?: ModuleSpec | WireModuleSpec): Promise<RemoteModuleHandle> {
    // A stopped handle says so first, whatever else is wrong with the call, as an embedded one does; one that goes on
    // saying its session is gone judges the id and spec first, as an embedded handle of a session gone does.
    this.#scope.assertOpen(() => {
      assertModuleId(id);
      if (spec !== undefined) toWireSpec(spec);
    });
    assertModuleId(id);
    const [operation, body] =
      spec === undefined ? (['describe', {}] as const) : (['create', { spec: toWireSpec(spec) }] as const);
    const description = (await this.#requests.module(
      this.transport.subjects.module(this.sessionId, id, operation),
      body,
    )) as ModuleDescription;
    // Bound to this handle's life and to its stop, as its own requests are. It checks the inputs of its executions
    // as the embedded module does, knowing the program from the module's description (which a create answers too:
    // its type then is the one a type variable chose).
    const { moduleType, signature } = description;
    return new RemoteModuleHandle(id, this.sessionId, this.transport, this.#scope, { moduleType, signature });
  }

  /**
   * Every module of this session (created through any node), sorted by id: those whose spec is in the modules bucket,
   * and those that stay on the node that created them (their spec holds functions) while that node answers for them.
   */
  async modules(): Promise<RemoteModuleHandle[]> {
    // Ids alone: the specs, each up to nearly max_payload, could make the list too large for one reply.
    const subject = this.transport.subjects.moduleList(this.sessionId);
    const listed = (await this.#requests.module(subject, { specs: false })) as { moduleId: string }[];
    return listed.map((entry) => new RemoteModuleHandle(entry.moduleId, this.sessionId, this.transport, this.#scope));
  }

  /**
   * Deletes the session for good, on every node: its variables with their whole history, its modules, its record.
   * Requests on it then get `SessionError` (`session_not_found`), from this handle or any other of its life, and
   * its watches end; opening the id again starts a new, empty session. A session that does not exist (or, for a
   * handle of an earlier life, whose life has ended) is `session_not_found`, and nothing changes; `session_expired`
   * for a handle of a life that expired, as its other calls say, when the answering node heard it expire. A stopped
   * handle still deletes, as a stopped embedded one does: its stop gave up the handle, not the session. Once the
   * client closed, it rejects at once with `SessionError` (`session_stopped`, `details.client: 'closed'`), as an
   * embedded handle's does once its runtime stopped.
   * @example
   * await (await client.session('chat-1')).delete();
   */
  async delete(): Promise<void> {
    await this.#requests.deleteSession();
  }

  /**
   * Releases this handle, on this client only: its watches stop delivering, the module handles it gave out stop too
   * (their listeners hear nothing more and they are no longer `alive`), and every later call on this handle or on them
   * rejects with `SessionError` (`session_stopped`, `details.handle: 'stopped'`) without a request, as an embedded
   * handle's calls do after its `stop()`; `delete()` excepted, as there. A handle that heard its life end before (its
   * `delete()` resolved, a request answered `session_not_found` or `session_expired`) rejects with that error instead,
   * as an embedded handle of a session gone goes on doing once stopped. Calls already sent settle as they would have (a
   * module handle one of them gives is stopped with this one), and the cancel of an execution sent before, aborted or
   * timed out after, still goes to the nodes. The session, its variables, its modules and their processes on the nodes
   * are left as they are: nodes let an idle session hibernate, and expire it after its idle TTL; `delete()` removes it.
   * A second call does nothing. To go on using the session, get a new handle with `client.session(id)`.
   * @example
   * const session = await client.session('chat-1');
   * await session.watchVariables('*', (change) => console.log(change.name));
   * await session.stop(); // the watch ends; the session stays on the nodes
   */
  async stop(): Promise<void> {
    this.#scope.stop();
  }
}
