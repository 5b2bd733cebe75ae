/**
 * The Runtime: a Tether node. It runs processes (any XState logic, with Elixir semantics) and the session
 * processes, routes store changes to them, and fans variable changes out to watchers. Embedded by default: an
 * in-memory store and no server.
 * @module
 */
import type { AnyActorLogic, EventObject } from 'xstate';
import { EVERY_SESSION, RuntimeStoppedError, SessionError, ValidationError } from '../errors.js';
import { kindOf } from '../variables/failure.js';
import type { ExitReason } from '../runtime/exit-reason.js';
import type { MonitorTarget, Demonitor } from '../runtime/monitors.js';
import type { ProcessRef } from '../runtime/process.js';
import { ProcessRuntime } from '../runtime/process-runtime.js';
import {
  MAX_TIMEOUT_MS,
  type CallOptions,
  type SpawnOptions,
  type Target,
} from '../runtime/process-runtime-options.js';
import type { Session } from '../session/session.js';
import { assertOptions, type SessionOptions } from '../session/options.js';
import { WatchHub } from '../session/watch-hub.js';
import { languageModelFromEnv } from '../modules/language-model.js';
import { toolsByName } from '../modules/tools-by-name.js';
import { ModuleDirectory } from './module-directory.js';
import { SessionTable } from './session-table.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { Store, StoreWatch } from '../store/store.js';
import { assertSessionId } from '../variables/names.js';
import { openNatsNode, type NatsNode } from '../nats/nats-node.js';
import { DEFAULT_UNAVAILABLE_RETRY_MS } from '../nats/retry-unavailable.js';
import { assertOptionKeys } from '../option-keys.js';
import { SPAWN_KEYS, type FaultSource } from '../runtime/process-runtime-options.js';
import { answerWithinFor } from '../nats/session-service.js';
import { listOptionsOf, pageOf, type ListSessionsOptions, type SessionPage } from '../nats/session-page.js';
import type { VariableRecord } from '../variables/types.js';
import { watchInBatches } from '../store/watch-in-batches.js';
import { userReporter } from '../runtime/user-callback.js';
import { bothInspectors } from './both-inspectors.js';
import { assertRuntimeOptions, type RuntimeOptions } from './runtime-options.js';

/**
 * A Tether node.
 * @example
 * const runtime = await Runtime.start();
 * const session = await runtime.session('chat-1');
 * await session.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
 * await runtime.stop();
 */
export class Runtime {
  readonly #processes: ProcessRuntime;
  readonly #store: Store<VariableRecord>;
  readonly #ownsStore: boolean;
  readonly #sessions: SessionTable;
  readonly #modules: ModuleDirectory;
  readonly #ttlMs: number;
  readonly #callTimeoutMs: number;
  /** How long a NATS request waits here for its answer at the longest (see `NodeSessions.answerWithinMs`). */
  readonly #answerWithinMs: number;
  readonly #report: (error: unknown, where: string) => void;
  #router: StoreWatch | undefined;
  #nats: NatsNode | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(options: RuntimeOptions) {
    this.#report = userReporter(options.onError);
    this.#processes = new ProcessRuntime({
      ...(options.inspect ? { inspect: options.inspect } : {}),
      onError: (error, process, source) => {
        const label = typeof process === 'string' ? process : (process.name ?? process.id);
        this.#report(error, `${source === undefined ? '' : `${source} of `}process ${label}`);
      },
    });
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ?? createMemoryStore<VariableRecord>();
    // Checked by `start`; a fraction is rounded up, as `durationMs` reads it.
    this.#ttlMs = Math.ceil(options.sessionTtlMs ?? 3_600_000);
    this.#callTimeoutMs = Math.ceil(options.callTimeoutMs ?? 5000);
    const hibernateAfterMs = Math.ceil(options.hibernateAfterMs ?? this.#ttlMs);
    const retryMs = options.nats ? (options.nats.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS) : 0;
    // Capped at what a timer can wait: a longer call timeout is refused, which would fail every write.
    const writeTimeoutMs = Math.min(this.#callTimeoutMs + retryMs, Math.max(this.#callTimeoutMs, MAX_TIMEOUT_MS));
    this.#answerWithinMs = answerWithinFor(writeTimeoutMs);
    this.#modules = new ModuleDirectory(
      {
        processes: this.#processes,
        executionTimeoutMs: Math.ceil(options.executionTimeoutMs ?? 120_000),
        hibernateAfterMs,
        report: (error, where = 'module listener') => this.#report(error, where),
      },
      // Read now: a misconfigured provider is an error at start, not at the first execution.
      options.llm ?? languageModelFromEnv(),
      toolsByName(options.tools),
    );
    this.#sessions = new SessionTable({
      processes: this.#processes,
      store: this.#store,
      watchers: new WatchHub((error, sessionId) => this.#report(error, `watcher of session ${sessionId}`)),
      modules: this.#modules,
      callTimeoutMs: this.#callTimeoutMs,
      writeTimeoutMs,
      ttlMs: this.#ttlMs,
      shared: options.nats !== undefined,
      hibernateAfterMs,
      report: this.#report,
    });
  }

  /**
   * Starts a node. With no options it is embedded: in-memory store, no server. A bag that is no object, and a
   * `sessionTtlMs`, `hibernateAfterMs`, `callTimeoutMs` or `executionTimeoutMs` that is not a number of
   * milliseconds over 0 (`callTimeoutMs` and `executionTimeoutMs` at most 2^31-1), or `Infinity` (never expire,
   * never hibernate, wait for ever), are refused with `ValidationError` naming it before anything starts, as
   * `connect` refuses its `timeoutMs`. A fraction is rounded up, as `execute`'s `timeoutMs` is.
   * @throws {ValidationError} for the options above, an unknown option, or both `nats` and `store`; nothing starts
   * @throws {NatsConnectionError} (`unreachable`) with `nats`, when no server could be connected to, as `connect` says
   * @throws {BucketConfigMismatchError} with `nats`, when an existing bucket does not fit (other `replicas` or
   * `historyDepth` than given, a limit that drops values or a value size too small), left as it is
   */
  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    assertRuntimeOptions(options);
    if (options.nats && options.store)
      throw new ValidationError('give either nats or store: a NATS node keeps its variables in JetStream KV');
    const report = userReporter(options.onError);
    // Checked before connecting, so that bad tools leave no connection behind.
    toolsByName(options.tools);
    const nats = options.nats ? await openNatsNode(options.nats, report) : undefined;
    let runtime: Runtime | undefined;
    try {
      const inspect = bothInspectors(options.inspect, nats?.inspector, report);
      runtime = new Runtime({
        ...options,
        ...(nats ? { store: nats.store } : {}),
        ...(inspect ? { inspect } : {}),
      });
      const started = runtime;
      started.#nats = nats;
      if (nats) started.#sessions.attach(nats);
      // One watcher for the whole store, routing each change to its session's process (as each NATS node will).
      const sessions = started.#sessions;
      // In batches where the store has them: each session then gets one event for the changes that came together.
      started.#router = watchInBatches(started.#store, '', (changes) => sessions.route(changes), {
        includeCurrent: false,
      });
      await started.#router.ready;
      if (nats) {
        // Modules created here go to the modules bucket (any node can wake them) and publish their events.
        started.#modules.share(nats);
        await nats.serve((id, create) => sessions.open(id, create), started.#modules, {
          ttlMs: started.#ttlMs,
          endLocal: (id, incarnation, reason) => sessions.endLocal(id, incarnation, reason),
          uses: () => sessions.uses(),
          ended: (id, incarnation) => sessions.endedError(id, incarnation),
          answerWithinMs: started.#answerWithinMs,
        });
      }
      return started;
    } catch (error) {
      // Whatever failed after connecting (a bad provider setting, the router's watch, the service), the caller
      // gets no runtime to stop: the connection must not stay open and keep the process alive.
      await (runtime ? runtime.stop() : nats?.close())?.catch(() => {});
      throw error;
    }
  }

  /**
   * Resolves if this node's NATS connection closes without {@link Runtime.stop}: NATS stayed away longer than
   * `nats.reconnect` allows (by default it retries for ever), or refused the node. The node serves nothing
   * from then on; `onError` has been told. Never resolves for an embedded runtime.
   * @example
   * await Promise.race([runtime.connectionLost.then(() => process.exit(3)), shutdownRequested]);
   */
  get connectionLost(): Promise<void> {
    return this.#nats?.lost ?? new Promise<void>(() => {});
  }

  /**
   * The id of this node's `tether` service instance on NATS: what `$SRV.PING.tether` answers with, and what a
   * client's `NodeLostError` (`node_lost`) names. `undefined` for an embedded runtime.
   */
  get nodeId(): string | undefined {
    return this.#nats?.serviceId;
  }

  /**
   * The session `id`, starting its process (and loading its variables) when it is not running. On a NATS node the
   * session is also recorded as existing, so clients and other nodes reach it as one opened over the wire; with
   * `create: false` it is not, and one that does not exist rejects with `SessionError` (`session_not_found`). Takes
   * the options a remote client's `client.session(id, options)` takes, refusing a bad bag with the same
   * `ValidationError`. Once the runtime stopped, `SessionError` (`session_stopped`), as its handles' calls get.
   */
  async session(id: string, options?: SessionOptions): Promise<Session> {
    assertSessionId(id);
    assertOptions(options, 'session');
    return this.#sessions.open(id, options?.create ?? true);
  }

  /** Ids of the sessions whose processes are running on this node. */
  sessionIds(): string[] {
    return this.#sessions.ids();
  }

  /**
   * A page of the sessions that exist, their ids in code-point order, strictly after `after`, at most `limit` (1 to
   * 5000, default 1000); `next`, present only when more follow, is the `after` of the next page. On a NATS node, every
   * node's sessions: what a client's `listSessions` and the wire's `sessions.list` answer, a session being listed
   * exactly when a request with `create: false` finds it (opened, not deleted, not expired). On an embedded runtime,
   * its own: the ids {@link sessionIds} gives, and those whose process crashed, or was stopped after the session
   * held a variable (their next use starts one again; left unused, they expire after their TTL as the others do). One
   * stopped while it held nothing is no longer listed: an embedded runtime keeps no record of sessions, and an empty
   * one it does not run leaves no trace (its next use opens it again, empty). Bad options are refused with the
   * `ValidationError` the wire gives, naming the field; once the runtime stopped, `SessionError` (`session_stopped`),
   * as `session()` gives.
   * @example
   * const ids: string[] = [];
   * let page: SessionPage | undefined;
   * do {
   *   page = await runtime.listSessions({ after: page?.next });
   *   ids.push(...page.ids);
   * } while (page.next !== undefined);
   */
  async listSessions(options?: ListSessionsOptions): Promise<SessionPage> {
    const request = listOptionsOf(options);
    // No session is named: every session of this runtime is stopped.
    if (this.#stopping) throw new SessionError('session_stopped', EVERY_SESSION);
    if (this.#nats) return this.#nats.listSessions(request);
    return pageOf(this.#sessions.embeddedIds().sort(), request);
  }

  /**
   * Spawns any XState logic as a process (a root actor in this node's registry).
   * @throws {RuntimeStoppedError} once {@link Runtime.stop} was called: nothing would ever stop or restart it
   * @throws {ValidationError} for a `name` starting with `tether.`, which the runtime's own processes go by; and
   * what {@link ProcessRuntime.spawn} throws: `ValidationError` for bad options or logic, `AlreadyExistsError` for a
   * `name` a live process holds
   */
  spawn<TLogic extends AnyActorLogic>(logic: TLogic, options: SpawnOptions<TLogic> = {}): ProcessRef<TLogic> {
    // Checked before `name` is read: a getter or proxy of the caller's that throws is refused as the option it is.
    assertOptionKeys(options, 'spawn', SPAWN_KEYS);
    const name = (options as { name?: unknown } | undefined)?.name;
    if (this.#stopping) throw new RuntimeStoppedError(typeof name === 'string' ? `spawn of '${name}'` : 'spawn');
    // A process of the user's under a session's or a module's name would make that session or module fail to start.
    if (typeof name === 'string' && name.startsWith(RESERVED_NAME_PREFIX)) {
      throw new ValidationError(
        `process name '${name}' is reserved: names starting with '${RESERVED_NAME_PREFIX}' are the runtime's own`,
        { details: { field: 'name', name } },
      );
    }
    return this.#processes.spawn(logic, options);
  }

  /** The live process registered under `name`. */
  whereis(name: string): ProcessRef | undefined {
    return this.#processes.whereis(name);
  }

  /**
   * Every live process of this runtime, in spawn order, as Elixir's `Process.list()`: its sessions' and modules'
   * (named `tether.session.<sid>` and `tether.module.<sid>.<mid>`; a hibernating one has none until it wakes) and
   * those spawned with {@link spawn}. A new array each call.
   */
  processes(): ProcessRef[] {
    return this.#processes.processes();
  }

  /** Whether `target` (a handle, or a registered name) is a live process of this runtime (see ProcessRuntime). */
  isAlive(target: Target): boolean {
    return this.#processes.isAlive(target);
  }

  /** Tells `onError` of a fault `source` made for `process`, as `<source> of process <name>` (see ProcessHost). */
  reportFault(error: unknown, process: ProcessRef, source: FaultSource): void {
    this.#processes.reportFault(error, process, source);
  }

  /** Notes that `supervisor` supervises `child`, for the order of {@link stop} (see `ProcessHost.supervised`). */
  supervised(child: ProcessRef, supervisor: ProcessRef): void {
    this.#processes.supervised(child, supervisor);
  }

  /** Holds a supervisor's exit until `until` settles, for its children's stop in turn (see `ProcessHost.holdExit`). */
  holdExit(process: ProcessRef, until: Promise<unknown>): void {
    this.#processes.holdExit(process, until);
  }

  /** Whether `event` is an EXIT notice this runtime delivered to `to` (see `ProcessHost.isExitNotice`). */
  isExitNotice(event: unknown, to: Target): boolean {
    return this.#processes.isExitNotice(event, to);
  }

  /**
   * GenServer.call: sends `event` and waits for the reply; `CallTimeoutError`, `NoProcError`, `ProcessExitedError`,
   * `ValidationError` for a bad event or `timeout`, and the error of an `ok: false` reply (see ProcessRuntime).
   */
  call(target: Target, event: EventObject, options: CallOptions = {}): Promise<unknown> {
    return this.#processes.call(target, event, options);
  }

  /**
   * GenServer.cast: sends `event` without waiting; dropped when the target is not alive. Throws `ValidationError`
   * only for an event that is no object with a string `type`, whatever the target (see ProcessRuntime).
   */
  cast(target: Target, event: EventObject): void {
    this.#processes.cast(target, event);
  }

  /**
   * Delivers one DOWN notice when `target` exits (reason `noproc`, asynchronously, when it is not alive); the returned
   * function cancels it, and its `monitor` is the id the notice carries (see ProcessRuntime).
   */
  monitor(target: Target, watcher: MonitorTarget): Demonitor {
    return this.#processes.monitor(target, watcher);
  }

  /**
   * Links two processes: an abnormal exit of one stops the other, unless that one traps exits (`spawn`'s `trapExit`),
   * which gets an `EXIT` event for any exit instead. Returns the unlink function.
   */
  link(a: Target, b: Target): () => void {
    return this.#processes.link(a, b);
  }

  /**
   * Stops one process with `reason` (default `shutdown`), as `GenServer.stop` does: it exits with that reason exactly,
   * `'kill'` included; with no process given, refused (see ProcessRuntime), as `stop()` is what stops them all.
   */
  stopProcess(...args: [target: Target, reason?: ExitReason]): Promise<void> {
    return this.#processes.stopProcess(...args);
  }

  /** Whether {@link stop} has been called: a supervisor running here restarts nothing from then on. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Stops every process (in reverse start order, a supervised one through its supervisor) and the store router; the
   * in-memory store it made is closed, a store given as `store` left open (other runtimes may share it). A NATS node
   * leaves what it shares: sessions, variables and module specs stay in their buckets for the other nodes (stop a
   * module through its handle to remove it everywhere).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Ends the requests a NATS node still has in flight, for a {@link Runtime.stop} that has waited long enough for
   * them (`tether serve --drain-timeout`): each is answered at once with `NodeStoppingError` (`node_stopping`, its
   * message naming `reason`) and its execution is cancelled, its LLM call dropped, so the stop goes on. Resolves
   * with how many it ended once their replies are out; 0 on an embedded runtime, which serves no requests.
   * @example
   * const stopping = runtime.stop();
   * const timer = setTimeout(() => void runtime.endRequests('drain timeout of 25000 ms ran out'), 25_000);
   * await stopping;
   * clearTimeout(timer);
   * @throws {ValidationError} (rejects) when `reason` is no text or blank; nothing is ended
   */
  endRequests(reason = 'the node is stopping'): Promise<number> {
    // Every ended request's error carries it to its caller, in its message and `details.reason`.
    if (typeof reason !== 'string' || reason.trim() === '') {
      const got = typeof reason === 'string' ? 'blank text' : kindOf(reason);
      const why = `endRequests' reason must be text that says why, got ${got}`;
      return Promise.reject(new ValidationError(why, { details: { field: 'reason', got } }));
    }
    return this.#nats?.endRequests(reason) ?? Promise.resolve(0);
  }

  async #stop(): Promise<void> {
    // A node's requests in progress finish, those already delivered included (they may still open a session or wake
    // a module); no new ones arrive. Only then does the node refuse new sessions. Embedded, nothing is in flight from
    // elsewhere: a use made after `stop()` is refused at once, as one made before it that has not reached its process
    // yet is (an `updateVariable` between its read and its write, say).
    if (this.#nats) await this.#nats.stopServing();
    else this.#sessions.refuseUses();
    this.#router?.stop();
    this.#modules.close();
    // The user's processes first, newest first, a supervised one through its supervisor: they use the sessions and
    // modules, which nothing of the runtime's uses in turn (as OTP stops an application's dependents before what they
    // depend on). Then the sessions, each through its own `stop`: a write in flight finishes (and its caller hears so)
    // before the process exits. Then whatever is left.
    await this.#processes.stopAllOf((root) => !root.name?.startsWith(RESERVED_NAME_PREFIX));
    await this.#sessions.stop(this.#callTimeoutMs);
    await this.#processes.stopAll();
    this.#sessions.clear();
    if (this.#nats) {
      this.#modules.disconnecting();
      await this.#nats.close();
    } else if (this.#ownsStore) await this.#store.close();
  }
}

/** What the names of a runtime's own processes start with (`tether.session.<id>`, `tether.module.<sid>.<mid>`). */
const RESERVED_NAME_PREFIX = 'tether.';
