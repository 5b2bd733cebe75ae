/**
 * The module processes of a node: their programs by key, their processes in the registry as
 * `tether.module.<session>.<module>`, and their handles. On a NATS node it also claims each new module's id in
 * the shared modules bucket (so any node can wake it) and starts processes for modules created elsewhere.
 * @module
 */
import type { ExecutionResult } from '../../machines/module.machine.js';
import { AlreadyExistsError, CallTimeoutError, ModuleNotFoundError, NoProcError, ValidationError } from '../errors.js';
import type { LanguageModel } from '../modules/language-model.js';
import { ModuleHandle, type ModuleHandleDeps } from '../modules/module-handle.js';
import { ModuleInstance } from '../modules/module-instance.js';
import { createModuleLogic, moduleKey, type ModuleLogic } from '../modules/module-logic.js';
import { defaultModuleRegistry } from '../modules/module-registry.js';
import { assertModuleId, assertModuleSpec, resolveTools, type ModuleSpec } from '../modules/module-spec.js';
import type { ModuleTool } from '../modules/module-types.js';
import type { HostExecuteOptions, ModuleHost, SharedSpec } from '../nats/module-host.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { ProcessRef } from '../runtime/process.js';
import type { SessionContext } from '../session/session-context.js';
import type { SessionModules } from '../session/session-modules.js';

/** The registry name of a module process. */
export function moduleProcessName(sessionId: string, moduleId: string): string {
  return `tether.module.${sessionId}.${moduleId}`;
}

/**
 * How a NATS node shares the modules of this one: `claimModule` records a new module's spec so other nodes can
 * wake it (resolving to the claim, taken back when the build fails, or `undefined` for a module that stays on
 * this node because its spec holds functions; `AlreadyExistsError` when the id is taken), `serveLocalModule` lets
 * the other nodes pass on requests for a module that stays here, `removeModule` stops a shared module everywhere
 * (a handle's `stop()`), `loadModule` reads a spec to wake a module created through another node (an embedded
 * `session.module(id)`), and `publishModuleEvents` announces a process's events.
 */
export type ModuleSharing = Pick<
  NatsNode,
  'claimModule' | 'serveLocalModule' | 'removeModule' | 'loadModule' | 'publishModuleEvents'
>;

/** Told about each module process that starts on this node; may return what to do when it exits. */
export type ModuleObserver = (handle: ModuleHandle) => (() => void) | void;

interface Entry {
  readonly handle: ModuleHandle;
  readonly process: ProcessRef<ModuleLogic>;
  /** The spec in the modules bucket the process was started from; none for a module that stays on this node. */
  readonly shared: SharedSpec | undefined;
  /** Set when the node's connection dropped: the spec may have been removed meanwhile, unseen. */
  recheck: boolean;
  /**
   * Set when the watch of the modules bucket saw the spec removed or replaced: the process is stopping and serves
   * no request from then on, though it holds its name until it has stopped.
   */
  stale: boolean;
}

/** Starts, finds and stops a node's module processes. */
export class ModuleDirectory implements SessionModules, ModuleHost {
  readonly #instances = new Map<string, ModuleInstance>();
  readonly #entries = new Map<string, Entry>();
  /** Creations in progress by key, so two creations of one id cannot both succeed and a wake waits for one. */
  readonly #starting = new Map<string, Promise<ModuleHandle>>();
  /** Wakes in progress, shared by the requests that arrive meanwhile. */
  readonly #waking = new Map<string, Promise<ModuleHandle>>();
  readonly #observers = new Set<ModuleObserver>();
  readonly #logic: ModuleLogic;
  #sharing: ModuleSharing | undefined;

  constructor(
    private readonly deps: ModuleHandleDeps,
    private readonly llm: LanguageModel,
    private readonly tools: ReadonlyMap<string, ModuleTool> = new Map(),
  ) {
    this.#logic = createModuleLogic(this.#instances);
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
    this.observe((handle) => node.publishModuleEvents(handle));
  }

  /** Calls `observer` for every module process started from now on; returns the function that stops that. */
  observe(observer: ModuleObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  async create(session: SessionContext, moduleId: string, spec: unknown): Promise<ModuleHandle> {
    assertModuleId(moduleId);
    assertModuleSpec(spec);
    // What can be checked without the session is checked before the id is claimed anywhere.
    resolveTools(spec, this.tools);
    if (spec.type !== undefined) defaultModuleRegistry.resolve(spec.type);
    const key = moduleKey(session.sessionId, moduleId);
    const taken = () => new AlreadyExistsError('module', moduleId, { details: { sessionId: session.sessionId } });
    const existing = this.#entries.get(key);
    // A process here from a shared spec is not proof that the id is taken: the bucket's claim decides, below.
    if ((existing && !existing.shared) || this.#starting.has(key)) throw taken();
    const creating = (async () => {
      const claim = await this.#sharing?.claimModule(session.sessionId, moduleId, spec);
      try {
        if (existing?.process.alive) {
          // The claim succeeded, so the spec that process runs was removed (its stop has not reached it yet).
          if (!claim) throw taken();
          await this.#stopProcess(existing);
        }
        const entry = await this.#start(session, moduleId, spec, claim);
        if (claim) return await this.#keepIfShared(entry, claim);
        await this.#reachableFromOtherNodes(entry);
        return entry.handle;
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
      if (created && !created.stale && (await this.#stillCurrent(created))) return created.handle;
      const stored = await load();
      if (stored === undefined) throw new ModuleNotFoundError(session.sessionId, moduleId);
      // A process of the replaced spec holds the name until it has stopped (its entry goes with it).
      const replaced = this.#entries.get(key);
      if (replaced?.stale) await this.#stopProcess(replaced);
      // Created here meanwhile (an embedded `session.module()` of the same id): that process is the one.
      const existing = this.#entries.get(key);
      if (existing && !existing.stale) return existing.handle;
      return this.#keepIfShared(await this.#start(session, moduleId, stored.spec, stored), stored);
    })();
    this.#waking.set(key, waking);
    try {
      return await waking;
    } finally {
      this.#waking.delete(key);
    }
  }

  async execute(
    sessionId: string,
    moduleId: string,
    inputs: Readonly<Record<string, unknown>>,
    options: HostExecuteOptions,
  ): Promise<ExecutionResult> {
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))
      throw new ValidationError(`execute of module '${moduleId}' takes an object of input fields`);
    const { process } = this.#entry(sessionId, moduleId);
    // Before the mailbox, as for an embedded execute (see ModuleHandle.execute).
    const invalid = this.#instances.get(moduleKey(sessionId, moduleId))?.inputProblem(inputs);
    if (invalid) throw invalid;
    const { executionId } = options;
    try {
      const timeout = options.timeoutMs ?? this.deps.executionTimeoutMs;
      return (await this.deps.processes.call(
        process,
        { type: 'execute', executionId, inputs },
        { timeout },
      )) as ExecutionResult;
    } catch (error) {
      // Nobody waits for it any more: cancel it, so it neither blocks the mailbox nor costs a provider call.
      if (error instanceof CallTimeoutError)
        this.deps.processes.cast(process, { type: 'cancel', executionId, reason: 'timed out' });
      throw error;
    }
  }

  async cancel(sessionId: string, moduleId: string, executionId: string, reason?: string): Promise<boolean> {
    const entry = this.#entries.get(moduleKey(sessionId, moduleId));
    if (!entry?.process.alive) return false;
    const event = { type: 'cancel', executionId, ...(reason === undefined ? {} : { reason }) };
    try {
      return (await this.deps.processes.call(entry.process, event)) === true;
    } catch (error) {
      // Stopped meanwhile: whatever it was running was rejected with it.
      if (error instanceof NoProcError) return false;
      throw error;
    }
  }

  async stopLocal(sessionId: string, moduleId: string, removedRevision?: number): Promise<boolean> {
    const key = moduleKey(sessionId, moduleId);
    // A wake or creation under way would register its process after this stop looked: wait for it (failed or not).
    await Promise.allSettled([this.#starting.get(key), this.#waking.get(key)]);
    const entry = this.#entries.get(key);
    if (!entry) return false;
    if (removedRevision !== undefined && !(entry.shared && entry.shared.revision <= removedRevision)) return false;
    await this.#stopProcess(entry);
    return true;
  }

  running(sessionId: string, moduleId: string): boolean {
    const key = moduleKey(sessionId, moduleId);
    const entry = this.#entries.get(key);
    return entry?.process.alive === true && !entry.recheck && !entry.stale && !this.#waking.has(key);
  }

  specWritten(sessionId: string, moduleId: string, revision: number): void {
    const entry = this.#entries.get(moduleKey(sessionId, moduleId));
    // A write at or before the process's own revision is old news (the watch may lag behind a wake's own read).
    if (!entry?.shared || revision <= entry.shared.revision) return;
    // At once, not when the stop is through: a request that waited for this revision must not reach the process.
    entry.stale = true;
    void this.#stopProcess(entry);
  }

  recheckSpecs(): void {
    for (const entry of this.#entries.values()) if (entry.shared) entry.recheck = true;
  }

  async find(session: SessionContext, moduleId: string): Promise<ModuleHandle> {
    // Before any lookup: on a NATS node the id becomes part of a bucket key.
    assertModuleId(moduleId);
    const sharing = this.#sharing;
    if (!sharing) return this.#entry(session.sessionId, moduleId).handle;
    try {
      return await this.wake(session, moduleId, () => sharing.loadModule(session.sessionId, moduleId));
    } catch (error) {
      // As on a node without NATS: no process of that name is alive anywhere, nor can one be woken.
      if (error instanceof ModuleNotFoundError)
        throw new NoProcError(moduleProcessName(session.sessionId, moduleId), { cause: error });
      throw error;
    }
  }

  list(sessionId: string): ModuleHandle[] {
    return [...this.#entries.values()]
      .filter((entry) => !entry.stale && entry.handle.sessionId === sessionId)
      .map((entry) => entry.handle);
  }

  /**
   * Stops this node's processes of a session's modules (the session expired or was stopped here). Their specs
   * stay in a NATS node's modules bucket: the session lives on there, and other nodes serve its modules.
   */
  async stopSession(sessionId: string): Promise<void> {
    const entries = [...this.#entries.values()].filter((entry) => entry.handle.sessionId === sessionId);
    await Promise.all(entries.map((entry) => this.#stopProcess(entry)));
  }

  #entry(sessionId: string, moduleId: string): Entry {
    const entry = this.#entries.get(moduleKey(sessionId, moduleId));
    if (!entry) throw new NoProcError(moduleProcessName(sessionId, moduleId));
    return entry;
  }

  /**
   * Keeps a process started from a shared spec only while the bucket still holds that spec: a stop removes the
   * spec first, and when it did so while the process was starting, its stop may have looked here too early.
   */
  async #keepIfShared(entry: Entry, shared: SharedSpec): Promise<ModuleHandle> {
    const { handle } = entry;
    let kept = false;
    try {
      kept = await shared.stillShared();
    } finally {
      if (!kept) await this.#stopProcess(entry);
    }
    if (!kept) throw new ModuleNotFoundError(handle.sessionId, handle.moduleId);
    return handle;
  }

  /**
   * A module that stays on this node (no bucket has its spec) is still reached through every node: they pass its
   * requests on to this one for as long as its process lives. Ready before its creation resolves, so that a client
   * told of it finds it through any node at once.
   */
  async #reachableFromOtherNodes(entry: Entry): Promise<void> {
    if (!this.#sharing) return;
    const { sessionId, moduleId } = entry.handle;
    let unserve: () => Promise<void>;
    try {
      unserve = await this.#sharing.serveLocalModule(sessionId, moduleId);
    } catch (error) {
      await this.#stopProcess(entry);
      throw error;
    }
    void entry.process.exited.then(unserve);
  }

  /**
   * Whether a running process may serve: yes, unless the connection dropped since it started and the bucket no
   * longer holds its spec (then it is stopped here).
   */
  async #stillCurrent(entry: Entry): Promise<boolean> {
    if (!entry.recheck || !entry.shared) return true;
    if (await entry.shared.stillShared()) {
      entry.recheck = false;
      return true;
    }
    await this.#stopProcess(entry);
    return false;
  }

  /** Stops this node's process of a module, and nothing else: its spec in the modules bucket stays. */
  #stopProcess(entry: Entry): Promise<void> {
    return this.deps.processes.stop(entry.process);
  }

  /**
   * An explicit stop of a module through its handle: a shared module is stopped everywhere (its spec removed,
   * every node told), as the wire `stop` does; a module that stays on this node just stops.
   */
  async #stopModule(entry: Entry): Promise<void> {
    try {
      if (entry.shared && this.#sharing)
        await this.#sharing.removeModule(entry.handle.sessionId, entry.handle.moduleId, entry.shared.revision);
    } finally {
      // Stopped here even when the bucket cannot be reached: a stop must never leave this process running.
      await this.#stopProcess(entry);
    }
  }

  async #start(
    session: SessionContext,
    moduleId: string,
    spec: ModuleSpec,
    shared: SharedSpec | undefined,
  ): Promise<Entry> {
    const key = moduleKey(session.sessionId, moduleId);
    const instance = await ModuleInstance.create(moduleId, session, spec, { llm: this.llm, tools: this.tools });
    this.#instances.set(key, instance);
    const process: ProcessRef<ModuleLogic> = this.deps.processes.spawn(this.#logic, {
      name: moduleProcessName(session.sessionId, moduleId),
      input: { moduleId, sessionId: session.sessionId, moduleType: instance.moduleType },
    });
    const handle = new ModuleHandle(moduleId, session.sessionId, process, this.deps, {
      checkInputs: (inputs) => instance.inputProblem(inputs),
      stop: () => this.#stopModule(entry),
    });
    const entry: Entry = { handle, process, shared, recheck: false, stale: false };
    this.#entries.set(key, entry);
    const cleanups = [...this.#observers].map((observer) => observer(handle));
    // After the handle's own reaction to the exit (registered when it was built), which announces the executions
    // the process held to these observers' listeners: only then are they removed.
    void process.exited.then(() => {
      for (const cleanup of cleanups) cleanup?.();
      if (this.#entries.get(key)?.process === process) {
        this.#entries.delete(key);
        this.#instances.delete(key);
      }
    });
    return entry;
  }
}
