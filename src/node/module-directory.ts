/**
 * The module processes of a node: their programs by key, their processes in the registry as
 * `tether.module.<session>.<module>`, and their handles. On a NATS node it also claims each new module's id in
 * the shared modules bucket (so any node can wake it) and starts processes for modules created elsewhere.
 *
 * A module idle for `hibernateAfterMs` (the runtime's session idle time), or idle when its session hibernates
 * here, hibernates (see module-entry.ts); its spec's validity is kept by the same rules as a running process's
 * (`stale`, `recheck`), so a hibernating module wakes from the spec it ran, without a store read. Embedded runtimes
 * do the same: their sessions expire when idle, but a session kept busy must not keep idle modules in memory either.
 * @module
 */
import type { ExecutionResult, ModuleDescription } from '../../machines/module.machine.js';
import { AlreadyExistsError, ModuleNotFoundError, SessionError, ValidationError } from '../errors.js';
import type { LanguageModel } from '../modules/language-model.js';
import { IdleClock } from '../runtime/idle-clock.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import { ModuleInstance, type ModuleInstanceOptions } from '../modules/module-instance.js';
import { createModuleLogic, moduleKey } from '../modules/module-logic.js';
import { defaultModuleRegistry } from '../modules/module-registry.js';
import { assertSettingsApply } from '../modules/type-settings.js';
import {
  assertModuleId,
  assertModuleSpec,
  compareModuleIds,
  resolveTools,
  type ModuleSpec,
} from '../modules/module-spec.js';
import type { ModuleTool } from '../modules/module-types.js';
import type { HostExecuteOptions, ModuleHost, SharedSpec, StopScope } from '../nats/module-host.js';
import { inspectAs } from '../nats/inspection.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { SessionContext } from '../session/session-context.js';
import { emptySession } from '../session/empty-session.js';
import type { SessionEnding } from '../session/session-host.js';
import { sessionEndedError } from '../session/session-process-link.js';
import type { SessionModules } from '../session/session-modules.js';
import { ModuleEntries } from './module-entries.js';
import { ModuleObservers, type ModuleObserver } from './module-observers.js';
import { inScope, keepIfShared, stillCurrent, stopByHandle, stopHere } from './shared-module.js';
import { ModuleEntry, type ModuleEntryDeps, type ModuleEntryHost } from './module-entry.js';

/** Reads of the modules bucket a check of this node's processes makes at once (see `checkSpecsNow`). */
const CHECKS_AT_ONCE = 16;

export { moduleProcessName } from './module-entry.js';

/**
 * How a NATS node shares the modules of this one: `claimModule` claims a new module's id in the modules bucket
 * (resolving to the claim, made once the module is built so that a refused creation writes nothing;
 * `AlreadyExistsError` when the id is taken): its spec, so other nodes can wake it, or for a module that stays on
 * this node because its spec holds functions, this node's claim (`local`), while the other nodes pass its requests
 * on to this one. `moduleTaken` tells whether the id is taken, for a creation refused before it claimed.
 * `removeModule` stops a shared module everywhere (a handle's `stop()`), `loadModule` reads a spec to wake a module
 * created through another node (an embedded `session.module(id)`), and `publishModuleEvents` announces a process's
 * events.
 */
export type ModuleSharing = Pick<
  NatsNode,
  'claimModule' | 'moduleTaken' | 'removeModule' | 'loadModule' | 'publishModuleEvents'
>;

/** Starts, finds and stops a node's module processes. */
export class ModuleDirectory implements SessionModules, ModuleHost {
  readonly #entries = new ModuleEntries();
  /** Creations by key: a later one of the id waits for the earlier (one refused leaves the id free), as a wake does. */
  readonly #starting = new Map<string, Promise<ModuleHandle>>();
  /** Wakes in progress, shared by the requests that arrive meanwhile. */
  readonly #waking = new Map<string, Promise<ModuleHandle>>();
  readonly #observers = new ModuleObservers();
  readonly #host: ModuleEntryHost;
  readonly #idle = new IdleClock<ModuleEntry>((entry) => entry.hibernate());
  #sharing: ModuleSharing | undefined;
  #closed = false;
  /** The node's NATS connection is closing or closed, as the node stops (see {@link disconnecting}). */
  #disconnected = false;

  constructor(
    private readonly deps: ModuleEntryDeps,
    private readonly llm: LanguageModel,
    private readonly tools: ReadonlyMap<string, ModuleTool> = new Map(),
  ) {
    const logic = createModuleLogic(this.#entries.instances);
    // Its processes are the ones an inspecting node publishes as modules: by this object, not a machine id.
    inspectAs(logic, 'module');
    this.#host = {
      deps,
      logic,
      idle: this.#idle,
      closed: () => this.#closed,
      forget: (entry) => this.#entries.forget(entry),
      stopModule: async (entry) => {
        try {
          await stopByHandle(entry, this.#sharing);
        } catch (error) {
          // The node's connection closed as it stopped, so the shared spec could not leave the bucket (other nodes
          // go on serving it). Refused as every call after `runtime.stop()` is; a failure while the node is stopping
          // but still connected is its own. Embedded, there is no bucket to fail.
          if (this.#disconnected) throw new SessionError('session_stopped', entry.handle.sessionId, { cause: error });
          throw error;
        }
      },
    };
  }

  /** The default execution timeout of this node's module processes. */
  get executionTimeoutMs(): number {
    return this.deps.executionTimeoutMs;
  }

  /**
   * From now on, claims each new module in the NATS node's modules bucket (so any node can wake it) and
   * publishes the events of every module process started here.
   */
  share(node: ModuleSharing): void {
    this.#sharing = node;
    this.observe((handle, session) => node.publishModuleEvents(handle, session.incarnation));
  }

  /**
   * Calls `observer` for every module started from now on (once, however often it hibernates and wakes); returns
   * the function that stops that.
   */
  observe(observer: ModuleObserver): () => void {
    return this.#observers.add(observer);
  }

  async create(session: SessionContext, moduleId: string, spec: unknown): Promise<ModuleHandle> {
    this.#check(moduleId, spec);
    const key = moduleKey(session.sessionId, moduleId);
    const taken = () => new AlreadyExistsError('module', moduleId, { details: { sessionId: session.sessionId } });
    for (let other = this.#starting.get(key); other; other = this.#starting.get(key))
      if ((await Promise.allSettled([other]))[0]?.status === 'fulfilled') throw taken();
    const existing = this.#entries.get(key);
    // A process here from a shared spec is not proof that the id is taken: the bucket's claim decides, below. A
    // module that stays here is, until its claim is seen removed or taken over (it is stale then).
    if (existing && (!existing.shared || (existing.shared.local && !existing.stale))) throw taken();
    const creating = (async () => {
      // Built before the id is claimed: what only the session can tell (a bound variable missing or holding a value
      // the attribute cannot take, a signature Ax refuses) refuses the creation with nothing written to the bucket.
      // Claiming first and releasing after left a delete marker for every refused id.
      const instance = await this.#build(session, moduleId, spec).catch(async (error: unknown) => {
        // An id in use is `already_exists` whatever the session says of the spec, as embedded, where the id is
        // checked first: the bucket is read only for a refused creation, so a creation that goes through costs none.
        if (await this.#sharing?.moduleTaken(session.sessionId, moduleId).catch(() => false)) throw taken();
        throw error;
      });
      // Its forward subscription goes first: the claim's check must not find this node answering for a module gone.
      if (existing?.stale) await stopHere(existing);
      const claim = await this.#sharing?.claimModule(session.sessionId, moduleId, spec);
      try {
        if (existing && !existing.ended) {
          // The claim succeeded, so the spec that process runs was removed (its stop has not reached it yet).
          if (!claim) throw taken();
          await existing.stopProcess();
        }
        const entry = this.#run(session, instance, claim);
        if (!claim) return entry.handle;
        // Its id goes back when it ends here, however it ends (a stop, a crash, its session's end, the node's).
        const { local } = claim;
        if (local) entry.atEnd(() => void local.release());
        return await keepIfShared(entry, claim);
      } catch (error) {
        await claim?.release();
        throw error;
      }
    })();
    this.#starting.set(key, creating);
    try {
      return await creating;
    } finally {
      this.#starting.delete(key);
    }
  }

  async wake(
    session: SessionContext,
    moduleId: string,
    load: () => Promise<(SharedSpec & { readonly spec: ModuleSpec }) | undefined>,
  ): Promise<ModuleHandle> {
    const key = moduleKey(session.sessionId, moduleId);
    // First: a wake under way may have registered its process before it knows that the spec still holds.
    const pending = this.#waking.get(key);
    if (pending) return pending;
    const running = this.#entries.get(key);
    if (running && !running.recheck && !running.stale) return running.handle;
    const waking = (async () => {
      // A creation of this id on this node is under way: its process (if it gets one) is the one to use.
      await this.#starting.get(key)?.catch(() => undefined);
      const created = this.#entries.get(key);
      if (created && !created.stale && (await stillCurrent(created))) return created.handle;
      const stored = await load();
      if (stored === undefined) throw new ModuleNotFoundError(session.sessionId, moduleId);
      // A process of the replaced spec holds the name until it has stopped (its entry goes with it).
      const replaced = this.#entries.get(key);
      if (replaced?.stale) await replaced.stopProcess();
      // Created here meanwhile (an embedded `session.module()` of the same id): that process is the one.
      const existing = this.#entries.get(key);
      if (existing && !existing.stale) return existing.handle;
      // Woken as a running process of it goes on: a bound value refused now is the first sync's `syncFailed`.
      const instance = await ModuleInstance.wake(
        moduleId,
        session,
        stored.spec,
        this.#instanceOptions(session.sessionId, moduleId),
      );
      return keepIfShared(this.#run(session, instance, stored), stored);
    })();
    this.#waking.set(key, waking);
    try {
      return await waking;
    } finally {
      this.#waking.delete(key);
    }
  }

  async describe(
    session: SessionContext,
    moduleId: string,
    load: () => Promise<(SharedSpec & { readonly spec: ModuleSpec }) | undefined>,
  ): Promise<ModuleDescription> {
    const { sessionId } = session;
    const key = moduleKey(sessionId, moduleId);
    const known = this.#entries.get(key);
    // Here, running or hibernating (its handle answers a hibernating one itself), or being woken or created here.
    if ((known && !known.stale) || this.#waking.has(key) || this.#starting.has(key))
      return (await this.wake(session, moduleId, load)).describe();
    // No process of it here: answered from its spec, not woken (a process here has finished nothing yet).
    const stored = await load();
    if (stored === undefined) throw new ModuleNotFoundError(sessionId, moduleId);
    const moduleType = await ModuleInstance.typeOf(session, stored.spec);
    const { signature } = stored.spec;
    return { moduleId, sessionId, moduleType, signature, state: 'idle', queued: 0, completed: 0, failed: 0 };
  }

  async execute(
    sessionId: string,
    moduleId: string,
    inputs: Readonly<Record<string, unknown>>,
    options: HostExecuteOptions,
  ): Promise<ExecutionResult> {
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))
      throw new ValidationError(`execute of module '${moduleId}' takes an object of input fields`);
    return this.#entry(sessionId, moduleId).execute(inputs, options);
  }

  async cancel(sessionId: string, moduleId: string, executionId: string, reason?: string): Promise<boolean> {
    return (await this.#entries.get(moduleKey(sessionId, moduleId))?.cancel(executionId, reason)) ?? false;
  }

  async stopLocal(sessionId: string, moduleId: string, scope?: StopScope): Promise<boolean> {
    const key = moduleKey(sessionId, moduleId);
    // A wake or creation under way would register its process after this stop looked: wait for it (failed or not).
    await Promise.allSettled([this.#starting.get(key), this.#waking.get(key)]);
    const entry = this.#entries.get(key);
    if (!entry || !inScope(entry.shared, scope)) return false;
    await stopHere(entry);
    return true;
  }

  running(sessionId: string, moduleId: string): boolean {
    const key = moduleKey(sessionId, moduleId);
    const entry = this.#entries.get(key);
    // A hibernating module serves too: it wakes here from the spec it ran, which the same flags keep current.
    return entry?.live === true && !entry.recheck && !entry.stale && !this.#waking.has(key);
  }

  specWritten(sessionId: string, moduleId: string, revision: number): void {
    const entry = this.#entries.get(moduleKey(sessionId, moduleId));
    // A write at or before the process's own revision is old news (the watch may lag behind a wake's own read).
    if (!entry?.shared || revision <= entry.shared.revision) return;
    // At once, not when the stop is through: a request that waited for this revision must not reach the process.
    entry.stale = true;
    void entry.stopProcess();
  }

  recheckSpecs(): void {
    for (const entry of this.#entries.all()) if (entry.shared) entry.recheck = true;
  }

  async checkSpecsNow(): Promise<number> {
    const marked = [...this.#entries.all()].filter((entry) => entry.recheck);
    // A few reads at a time: a node may run thousands of modules, and the bucket just came back.
    for (let i = 0; i < marked.length; i += CHECKS_AT_ONCE) {
      const checks = marked.slice(i, i + CHECKS_AT_ONCE).map((entry) => stillCurrent(entry));
      // One the bucket did not answer keeps its mark (`stillCurrent` clears it only once the bucket answered).
      await Promise.allSettled(checks);
    }
    return marked.filter((entry) => entry.recheck && !entry.ended).length;
  }

  async find(session: SessionContext, moduleId: string): Promise<ModuleHandle> {
    // Before any lookup: on a NATS node the id becomes part of a bucket key.
    assertModuleId(moduleId);
    const sharing = this.#sharing;
    if (!sharing) return this.#entry(session.sessionId, moduleId).handle;
    return this.wake(session, moduleId, () => sharing.loadModule(session.sessionId, moduleId));
  }

  list(sessionId: string): ModuleHandle[] {
    return this.#entries
      .ofSession(sessionId)
      .filter((entry) => !entry.stale)
      .map((entry) => entry.handle)
      .sort((a, b) => compareModuleIds(a.moduleId, b.moduleId));
  }

  /**
   * Hibernates this node's idle modules of a session whose process hibernated here (as a session does when idle):
   * nothing uses them unless the session is used again. Those busy hibernate when their own idle time is up.
   */
  hibernateSession(sessionId: string): void {
    if (this.#closed) return;
    for (const entry of this.#entries.ofSession(sessionId)) entry.hibernate(true);
  }

  /**
   * The node is stopping: no module hibernates or wakes from now on, and those hibernating stop for good (the
   * running ones stop with every other process).
   */
  close(): void {
    this.#closed = true;
    this.#idle.stop();
    for (const entry of this.#entries.all()) if (!entry.process) entry.end();
  }

  /** The stopping node closes its NATS connection now: a module stop failing from then on is refused as stopped. */
  disconnecting(): void {
    this.#disconnected = true;
  }

  /**
   * Stops this node's processes of a session's modules (the session ended here as `ending` says: stopped, expired,
   * deleted). Their specs stay in a NATS node's modules bucket unless the session was deleted: the session lives on
   * there, and other nodes serve its modules. Those that stayed on this node end for good, and give their ids back.
   * Their handles' calls get the `SessionError` the session's own handle gets.
   */
  async stopSession(sessionId: string, ending: SessionEnding | undefined): Promise<void> {
    const why = () => sessionEndedError(sessionId, ending);
    await Promise.all(this.#entries.ofSession(sessionId).map((entry) => stopHere(entry, why)));
  }

  /** Whether a module of the session has anything to do on this node: an execution running or waiting. */
  busy(sessionId: string): boolean {
    return this.#entries.someOfSession(sessionId, (entry) => entry.busy);
  }

  /** Whether this node has modules of the session, running or hibernating. */
  hasSession(sessionId: string): boolean {
    return this.#entries.ofSession(sessionId).length > 0;
  }

  #entry(sessionId: string, moduleId: string): ModuleEntry {
    const entry = this.#entries.get(moduleKey(sessionId, moduleId));
    if (!entry) throw new ModuleNotFoundError(sessionId, moduleId);
    return entry;
  }

  /** See {@link ModuleHost.judgeCreate}. */
  async judgeCreate(sessionId: string, moduleId: string, spec: ModuleSpec): Promise<void> {
    this.#check(moduleId, spec);
    // Built and let go: the checks `create` makes, in its order, against a session with no variables.
    await this.#build(emptySession(sessionId), moduleId, spec);
  }

  /** What can be checked without the session, before the id is claimed anywhere. */
  #check(moduleId: string, spec: unknown): asserts spec is ModuleSpec {
    assertModuleId(moduleId);
    assertModuleSpec(spec);
    resolveTools(spec, this.tools);
    if (spec.type !== undefined)
      assertSettingsApply(defaultModuleRegistry.resolve(spec.type), spec, defaultModuleRegistry);
  }

  /** The module's program, built and bound: every check of the spec against the session runs here. */
  #build(session: SessionContext, moduleId: string, spec: ModuleSpec): Promise<ModuleInstance> {
    return ModuleInstance.create(moduleId, session, spec, this.#instanceOptions(session.sessionId, moduleId));
  }

  /** How this node's modules are built: its model and tools, and a callback's failure told to the runtime. */
  #instanceOptions(sessionId: string, moduleId: string): ModuleInstanceOptions {
    return {
      llm: this.llm,
      tools: this.tools,
      onCallbackError: (error, attribute) =>
        this.deps.report(error, `module ${moduleId} in session ${sessionId}: the onChange callback of ${attribute}`),
    };
  }

  /** Starts the process of a built module. */
  #run(session: SessionContext, instance: ModuleInstance, shared: SharedSpec | undefined): ModuleEntry {
    const entry = new ModuleEntry(this.#host, instance, shared);
    // Its program first: the process reads it as it starts.
    this.#entries.instances.set(entry.key, instance);
    entry.start();
    this.#entries.add(entry);
    this.#observers.started(entry, session);
    return entry;
  }
}
