/**
 * The session processes of a node by id: starting them (loading their variables), routing store changes to
 * them, letting them go when idle (expiry on an embedded runtime, hibernation on a NATS node), ending them when
 * their session is deleted or expires, and what an ended process leaves to do. The Runtime is the API over it.
 *
 * On a NATS node a session has lives: deleted (or expired) and opened again, an id is another session, told apart
 * by its record's incarnation. A process learns its life from the record, read alongside its load, and a handle
 * keeps the life of the process it was given, so it never wakes a later life of its id.
 * @module
 */
import type { VariableChangedEvent } from '../../machines/session.machine.js';
import { SessionError } from '../errors.js';
import { inspectAs } from '../nats/inspection.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { LocalEnd, SessionEndReason } from '../nats/session-control.js';
import type { SessionUse } from '../nats/session-expiry.js';
import type { TrackingStore } from '../nats/tracking-store.js';
import { IdleClock, monotonicNow } from '../runtime/idle-clock.js';
import type { ProcessRef } from '../runtime/process.js';
import { MAX_TIMEOUT_MS, type ProcessRuntime } from '../runtime/process-runtime.js';
import { hasNews } from '../session/apply-store-change.js';
import { frozenChanges } from '../session/frozen-writes.js';
import { Session } from '../session/session.js';
import type { SessionEnding, SessionHost, SessionProcess } from '../session/session-host.js';
import { sessionEndedError } from '../session/session-process-link.js';
import { createSessionLogic, type SessionLogic } from '../session/session-logic.js';
import { SerialTasks } from '../session/serial-tasks.js';
import type { WatchHub } from '../session/watch-hub.js';
import type { Store, StoreChange } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import { changesBySession } from '../store/changes-by-session.js';
import { ENDED_KEY, deleteEmbedded } from './embedded-deletion.js';
import { EndedSessions } from './ended-sessions.js';
import { LocalSessionProcess, endingOf } from './local-session-process.js';
import { SessionsAsleep } from './sessions-asleep.js';
import type { ModuleDirectory } from './module-directory.js';
import { whenLoaded } from './session-load.js';

/** What the table runs on. */
export interface SessionTableDeps {
  readonly processes: ProcessRuntime;
  readonly store: Store<VariableRecord>;
  readonly watchers: WatchHub;
  readonly modules: ModuleDirectory;
  readonly callTimeoutMs: number;
  /** How long a write waits for its process: `callTimeoutMs`, plus the time a commit may wait out an election. */
  readonly writeTimeoutMs: number;
  /** A session idle this long expires (an embedded runtime's own idle clock; on NATS, see session-expiry.ts). */
  readonly ttlMs: number;
  /** Sessions are shared with other nodes (a NATS node): idle ones hibernate here after `hibernateAfterMs`. */
  readonly shared: boolean;
  readonly hibernateAfterMs: number;
  readonly report: (error: unknown, where: string) => void;
}

/** A live session process and its handle. */
interface SessionEntry {
  readonly process: ProcessRef<SessionLogic>;
  /** Resolves once the process has loaded its variables. */
  readonly ready: Promise<SessionProcess>;
  /** On a NATS node, the life of the session (its record's incarnation) the process loaded, once known. */
  incarnation?: string | undefined;
}

const SESSION_PREFIX = 'tether.session.';

/** The processes of an embedded session id from a start after its last end up to the first end after their last one. */
interface SessionLife {
  /** The number of the last process started for it. */
  lastStart: number;
  /** Every process started up to this number served a session that ended, as `ending` says. */
  endedUpTo: number;
  ending?: SessionEnding;
  /** Its processes as handles hold them, weakly: a crashed one a handle still holds may be woken again. */
  readonly processes: WeakRef<SessionProcess>[];
}

/** A node's session processes. */
export class SessionTable {
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #activity: IdleClock<string>;
  readonly #logic: SessionLogic;
  /** How long a session may go unused before its process goes: the TTL, or on a NATS node hibernation's. */
  readonly #idleMs: number;
  readonly #ended = new EndedSessions();
  /**
   * An embedded runtime's sessions whose process ended without ending the session (it crashed, or was stopped) and
   * has not been started again: still sessions (their variables are in the store), so still listed and still on the
   * idle clock, which expires them as if they ran. A stopped one left the clock once, and its variables stayed in the
   * store for good: a service that stops each session when its conversation ends grew without bound.
   */
  readonly #dormant = new Set<string>();
  /**
   * The life of each embedded session id that has a process started since the id last ended (expired or deleted):
   * a handle of a process started no later than an end served an ended session, and must hear that it ended rather
   * than wake a new one when its process crashed (or was crashed when the session ended). An embedded session has no
   * incarnation to tell its lives apart; start numbers stand in for one. A life leaves this map once it ended after
   * its last start, or once its last process stopped and no handle holds a crashed one of it (which a later end must
   * still reach; checked again as each is collected); its processes keep it (in {@link #lifeOf}) for as long as a
   * handle holds one of them.
   */
  readonly #lives = new Map<string, SessionLife>();
  /** Each process's life and its number, in the order this table started them. */
  readonly #lifeOf = new WeakMap<SessionProcess, { readonly life: SessionLife; readonly started: number }>();
  /** Crashed processes that kept a stopped life in {@link #lives}: once one is collected, the life may go. */
  readonly #crashedLetGo = new FinalizationRegistry<{ readonly id: string; readonly life: SessionLife }>(
    ({ id, life }) => {
      // Only if it is still the id's life and no process of it runs or stays crashed (one started since joined it).
      if (this.#lives.get(id) !== life || this.#sessions.has(id) || this.#dormant.has(id)) return;
      this.#forgetStoppedLife(id, life.lastStart);
    },
  );
  #starts = 0;
  /**
   * On a NATS node, the last use since expiry last asked (see {@link uses}) of the sessions whose process ended, and of
   * those whose modules were used here while their process was not running.
   */
  readonly #endedUses = new Map<string, SessionUse>();
  /**
   * On a NATS node, the sessions whose modules run an execution here while the session's own process does not (it
   * hibernated, and an embedded module handle woke the module alone), with the life they belong to: a use of the
   * session until the execution ends, which {@link uses} reports as the running sessions' busy modules are.
   */
  readonly #usedByModulesAlone = new Map<string, string>();
  /** What session handles reach the runtime through. */
  readonly host: SessionHost;
  #nats: NatsNode | undefined;
  #stopped = false;
  /** Embedded deletions under way: a stop waits for them, so nothing of this runtime writes to the store after it. */
  readonly #deletions = new Set<Promise<void>>();
  /** What an inspector last saw of the sessions hibernating here, to show each stopped if it ends asleep. */
  readonly #asleep: SessionsAsleep;
  /** A NATS node's store also keeps per session what its events need; any other store does without. */
  readonly #tracking: Partial<Pick<TrackingStore, 'forgetSession' | 'noteLife' | 'waitUntilRouted'>>;

  constructor(private readonly deps: SessionTableDeps) {
    this.#idleMs = deps.shared ? deps.hibernateAfterMs : deps.ttlMs;
    this.#tracking = deps.store as Partial<TrackingStore>;
    // Sessions shared with other nodes hibernate when idle here: their variables may be in use elsewhere.
    const idle = deps.shared ? 'session.hibernate' : 'session.expire';
    this.#activity = new IdleClock((sessionId) => {
      // A watched session stays up on a NATS node: other nodes' writes reach its watchers only through its
      // process (the router drops changes of sessions not running here), and a woken process reloads the
      // current values without the changes in between. Once unwatched, it hibernates at the next idle sweep.
      // An embedded session still expires when idle, watched or not: its variables go, and its watchers with them.
      if (idle === 'session.hibernate' && deps.watchers.watches(sessionId)) return;
      // A module of the session running an execution (or with one waiting) is a use of the session that outlasts
      // the sync that read its variables: the session neither expires nor hibernates under it (its modules would
      // be stopped and, expired, its variables purged). Asked again one idle time later.
      if (deps.modules.busy(sessionId)) return this.#activity.touch(sessionId, this.#idleMs);
      if (this.#dormant.has(sessionId)) return this.#expireDormant(sessionId);
      this.#sessions.get(sessionId)?.process.actor.send({ type: idle });
    });
    // And the idle time counts from the end of the last execution, not from its sync. A module woken alone (its
    // session's process hibernated here, an embedded handle executed it) uses the session all the same.
    deps.modules.observe((handle, session) =>
      handle.onState((state) => {
        const id = handle.sessionId;
        // A dormant session (its process crashed, embedded) is on the idle clock too: its modules go on.
        if (this.#sessions.has(id) || this.#dormant.has(id)) {
          if (state === 'idle') this.#activity.touch(id, this.#idleMs);
        } else if (session.incarnation !== undefined && !this.#ended.errorFor(id, session.incarnation)) {
          this.#usedByModule(id, session.incarnation, state !== 'idle');
        }
      }),
    );
    this.#logic = createSessionLogic({
      store: deps.store,
      activity: this.#activity,
      report: (error, sessionId) => deps.report(error, `session ${sessionId}`),
      // On a node, the node that expires a session removes its variables once every node's process has ended.
      purgeOnExpiry: !deps.shared,
      // A NATS node's: a write that lost a race folds in what it re-read only once its router got that far.
      ...(this.#tracking.waitUntilRouted && { routed: this.#tracking.waitUntilRouted }),
    });
    // Its processes are the ones an inspecting node publishes as sessions: by this object, not a machine id.
    inspectAs(this.#logic, 'session');
    this.#asleep = new SessionsAsleep(deps.processes, this.#logic, (id) => SESSION_PREFIX + id);
    this.host = {
      store: deps.store,
      watchers: deps.watchers,
      modules: deps.modules,
      callTimeoutMs: deps.callTimeoutMs,
      writeTimeoutMs: deps.writeTimeoutMs,
      updates: new SerialTasks(),
      restart: (sessionId, incarnation, ended) => this.#restart(sessionId, incarnation, ended),
      deleteSession: (sessionId, incarnation, previous) => this.#delete(sessionId, incarnation, previous),
      touch: (sessionId) => this.#activity.touch(sessionId, this.#idleMs),
      stopped: () => this.#stopped,
      fresh: (sessionId, incarnation) =>
        incarnation === undefined ? undefined : this.#nats?.freshSession(sessionId, incarnation),
    };
  }

  /** From now on sessions are opened, checked and deleted through the NATS node. */
  attach(nats: NatsNode): void {
    this.#nats = nats;
  }

  /**
   * The session `id`, opened first when `create` (otherwise the session must exist: on a NATS node one that does not
   * is `session_not_found`). Once stopped, `SessionError` (`session_stopped`) before anything is asked of NATS.
   */
  async open(id: string, create: boolean): Promise<Session> {
    this.#assertServing(id);
    for (let attempt = 0; ; attempt += 1) {
      if (create) await this.#nats?.openSession(id);
      try {
        return new Session(id, await this.#running(id).ready, this.host);
      } catch (error) {
        // This node still took the session for existing, but its load found no record (deleted while this node
        // was not told): the open above knows better now, and creates a new one.
        const stale = error instanceof SessionError && error.code === 'session_not_found';
        if (!create || attempt > 0 || !stale) throw error;
      }
    }
  }

  /** Ids of the sessions whose processes are running here. */
  ids(): string[] {
    return [...this.#sessions.keys()];
  }

  /**
   * An embedded runtime's sessions: those running, and those whose process crashed or was stopped (a process starts
   * again at their next use, and they expire as the others do).
   */
  embeddedIds(): string[] {
    return this.#dormant.size === 0 ? this.ids() : [...new Set([...this.#sessions.keys(), ...this.#dormant])];
  }

  /**
   * Ends what this node has of a session that was deleted or expired (only of its life `incarnation`, when
   * given): its process, once a write in flight is through, its modules, its watchers.
   */
  endLocal(id: string, incarnation: string | undefined, reason: SessionEndReason): LocalEnd {
    if (incarnation !== undefined) this.#ended.remember(id, incarnation, reason);
    if (this.#dormant.delete(id)) this.#activity.forget(id);
    // Hibernating here, it ends without waking: an inspector last saw it go to sleep, and must see it end.
    this.#asleep.ended(id, incarnation);
    // Every process of it started so far served the session that ends: a handle of one that crashed must hear so,
    // though no process of it runs now (one started after the crash and stopped since).
    if (!this.deps.shared) this.#noteEnd(id, this.#starts, reason);
    const entry = this.#sessions.get(id);
    // A process of a newer life (the id was opened again before this news arrived) is not this end's.
    if (incarnation !== undefined && entry?.incarnation !== undefined && entry.incarnation !== incarnation)
      return { had: false, done: Promise.resolve() };
    const process = entry?.process.alive ? entry.process : undefined;
    const had = process !== undefined || this.deps.modules.hasSession(id) || this.deps.watchers.watches(id);
    const done = (async () => {
      if (process) {
        process.actor.send({ type: 'session.end', reason });
        await process.exited;
      }
      // What a hibernated session leaves here: its modules and its watchers.
      await this.deps.modules.stopSession(id, reason);
      this.deps.watchers.clear(id);
    })();
    return { had, done };
  }

  /** The error a handle of the life `incarnation` gets, when this node heard that life end. */
  endedError(id: string, incarnation: string): SessionError | undefined {
    return this.#ended.errorFor(id, incarnation);
  }

  /**
   * A module of session `id` (life `incarnation`) changed state here while the session's process is not running here:
   * a use of the session now, and for as long as it stays `busy`.
   */
  #usedByModule(id: string, incarnation: string, busy: boolean): void {
    this.#endedUses.set(id, { sessionId: id, lastUsed: monotonicNow(), incarnation });
    if (busy || this.deps.modules.busy(id)) this.#usedByModulesAlone.set(id, incarnation);
    else this.#usedByModulesAlone.delete(id);
  }

  /** The sessions used here since the last call, for the stamps of their activity (see session-expiry.ts). */
  uses(): SessionUse[] {
    const now = monotonicNow();
    for (const [sessionId, incarnation] of this.#usedByModulesAlone) {
      if (this.#sessions.has(sessionId) || !this.deps.modules.busy(sessionId))
        this.#usedByModulesAlone.delete(sessionId);
      else this.#endedUses.set(sessionId, { sessionId, lastUsed: now, incarnation });
    }
    const uses = [...this.#endedUses.values()];
    this.#endedUses.clear();
    for (const [sessionId, entry] of this.#sessions) {
      if (entry.incarnation === undefined || !entry.process.alive) continue;
      // A module executing here uses the session now, however long ago the execution's sync read it.
      const lastUsed = this.deps.modules.busy(sessionId) ? now : (this.#activity.lastActiveAt(sessionId) ?? now);
      uses.push({ sessionId, lastUsed, incarnation: entry.incarnation });
    }
    return uses;
  }

  /**
   * Hands store changes to their sessions' processes, those running here: each process gets the changes of its
   * session in one event, in the order given.
   */
  route(changes: readonly StoreChange<VariableRecord>[]): void {
    for (const [id, group] of changesBySession(changes)) {
      // One session's trouble must not cost the sessions after it in the batch their changes.
      try {
        this.#routeTo(id, group);
      } catch (error) {
        this.deps.report(error, `session ${id}`);
      }
    }
  }

  #routeTo(id: string, changes: readonly StoreChange<VariableRecord>[]): void {
    const endedKey = `${id}.${ENDED_KEY}`;
    let variables = changes;
    if (changes.some((change) => change.key === endedKey)) {
      // Another runtime on this store deleted the session (an embedded runtime's delete): it ends here too.
      const deleted = changes.some((change) => change.key === endedKey && change.operation === 'delete');
      if (deleted && !this.#nats) this.endLocal(id, undefined, 'deleted');
      variables = changes.filter((change) => change.key !== endedKey);
      if (variables.length === 0) return;
    }
    const entry = this.#sessions.get(id);
    if (!entry?.process.alive) {
      // Dormant here (its process stopped or crashed, its expiry still counted): no process of it runs here to
      // write, so the change is another runtime's use, and must not let it expire here under that runtime.
      if (!this.#nats && this.#dormant.has(id)) this.#activity.touch(id, this.#idleMs);
      return;
    }
    const { actor } = entry.process;
    // Only what the process has not applied (never its own commits' echoes): each event is a transition.
    if (!hasNews(actor.getSnapshot().context, id, variables)) return;
    // Another embedded runtime sharing the store wrote it: a use of the session, which must not expire here and purge
    // what that runtime is writing. A NATS node counts only its own uses: each node stamps the session's record.
    if (!this.#nats) this.#activity.touch(id, this.#idleMs);
    // Frozen: an inspector is shown the event before the process applies it (frozen-writes.ts).
    actor.send({ type: 'store.changed', changes: frozenChanges(variables) });
  }

  /**
   * Takes no new use of a session from now on (see {@link SessionHost.stopped}): an embedded runtime's stop, which has
   * no requests in flight to finish first, as a node's stop has.
   */
  refuseUses(): void {
    this.#stopped = true;
  }

  /**
   * Stops every session process, each through its own `stop`, so a write in flight finishes (and its caller hears
   * so), and lets the deletions under way finish; waits at most `waitMs` (a store that never answers must not keep
   * the node from stopping). No session starts from then on.
   */
  async stop(waitMs: number): Promise<void> {
    this.#stopped = true;
    this.#activity.stop();
    const processes = [...this.#sessions.values()].map((entry) => entry.process);
    for (const process of processes) this.deps.processes.cast(process, { type: 'stop' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Capped: a `callTimeoutMs` of Infinity must wait, and setTimeout fires at once past 2^31-1 ms.
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, Math.min(waitMs, MAX_TIMEOUT_MS))));
    const deletions = [...this.#deletions].map((deletion) => deletion.catch(() => {}));
    await Promise.race([Promise.all([...processes.map((process) => process.exited), ...deletions]), deadline]);
    clearTimeout(timer);
    this.#asleep.endAll();
  }

  /** Forgets every entry (their processes were stopped). */
  clear(): void {
    this.#sessions.clear();
  }

  /**
   * Expires a dormant session (its process crashed or was stopped) whose idle time is up, as its process would have:
   * a new one loads it and expires at once (its variables purged, its watchers and modules ended). Starting it is no
   * use of the session, but a use that joins it is (see `#running`). One that cannot load is reported, stays dormant
   * and is tried again a TTL later.
   */
  #expireDormant(id: string): void {
    if (this.#stopped) return;
    const entry = this.#running(id, false);
    entry.ready.then(
      () => entry.process.actor.send({ type: 'session.expire' }),
      (error: unknown) => {
        // Tried again a TTL later, not at every sweep while the store fails; the session stays dormant meanwhile.
        if (this.#dormant.has(id)) this.#activity.touch(id, this.#idleMs);
        this.deps.report(error, `session ${id}`);
      },
    );
  }

  /** Notes an end of embedded session `id`, served last by the process started `started`th (see {@link #lives}). */
  #noteEnd(id: string, started: number, ending: SessionEnding): void {
    const life = this.#lives.get(id);
    if (!life || life.endedUpTo > started) return;
    life.endedUpTo = started;
    life.ending = ending;
    // No process started after this end: the next one starts a new life.
    if (life.lastStart <= started) this.#lives.delete(id);
  }

  /**
   * Lets the life of embedded session `id` go when its last process, the `started`th, stopped (not crashed, not
   * ended with the session) and no handle holds a crashed process of it: nothing of it can be woken again, so no
   * end of the session needs noting on it. A session opened and stopped would otherwise keep its entry for good.
   */
  #forgetStoppedLife(id: string, started: number): void {
    const life = this.#lives.get(id);
    if (!life || life.lastStart > started) return;
    const held = life.processes.map((ref) => ref.deref()).filter((process) => process?.ending() === 'crashed');
    if (held.length === 0) {
      this.#lives.delete(id);
      return;
    }
    // Asked again once each is let go: a crash must not keep the entry for the runtime's life.
    for (const process of held) this.#crashedLetGo.register(process!, { id, life });
  }

  /**
   * A new process for a handle whose process, `previous`, crashed or hibernated, if its session's life `incarnation`
   * is on and, embedded, its session has not ended since `previous` started.
   */
  async #restart(id: string, incarnation: string | undefined, previous: SessionProcess): Promise<SessionProcess> {
    const ended = this.#ended.errorFor(id, incarnation) ?? this.#endedSince(id, previous);
    if (ended) throw ended;
    const process = await this.#running(id).ready;
    // Deleted and opened again meanwhile: the handle's session is gone, whatever now goes by its id.
    if (process.incarnation !== incarnation) throw new SessionError('session_not_found', id);
    return process;
  }

  /** Why embedded session `id` ended since `previous`, a process of it, started; `undefined` when it has not. */
  #endedSince(id: string, previous: SessionProcess): SessionError | undefined {
    const served = this.#lifeOf.get(previous);
    if (served?.life.ending !== undefined && served.started <= served.life.endedUpTo)
      return sessionEndedError(id, served.life.ending);
    return undefined;
  }

  /**
   * Deletes a session (see `Session.delete`): on NATS through the node, everywhere; embedded, here, unless the session
   * that `previous` (the handle's process) served has ended since: the id may name a new session by now.
   */
  async #delete(id: string, incarnation: string | undefined, previous?: SessionProcess): Promise<void> {
    // The store (or the node's connection) is closed: its failure would say so in its own words, not the session's.
    this.#assertServing(id);
    if (this.#nats) return this.#nats.deleteSession(id, incarnation);
    const ended = previous && this.#endedSince(id, previous);
    if (ended) throw ended;
    const deletion = deleteEmbedded(this.deps.store, id, () => this.endLocal(id, undefined, 'deleted').done);
    this.#deletions.add(deletion);
    try {
      await deletion;
    } finally {
      this.#deletions.delete(deletion);
    }
  }

  /**
   * Once the runtime stopped, every session of it is stopped: the handles' calls say so (their processes ended), and
   * so does what would start or reach one anew, with the same error.
   */
  #assertServing(id: string): void {
    if (this.#stopped) throw new SessionError('session_stopped', id);
  }

  /** The running process of `id`, started when there is none; `use` false for a start that is no use (see `#start`). */
  #running(id: string, use = true): SessionEntry {
    this.#assertServing(id);
    const running = this.#sessions.get(id);
    if (!running?.process.alive) return this.#start(id, use);
    // A use that joins a process started to expire the session counts: the session must not expire under its user.
    if (use) this.#activity.touch(id, this.#idleMs);
    return running;
  }

  /**
   * Starts a process of `id`. A start that is no use of the session (`use` false: one to expire a dormant session)
   * leaves its idle time as it was: counted as a use, it put the expiry off by a whole TTL, with the session loaded.
   */
  #start(id: string, use = true): SessionEntry {
    const { processes, watchers } = this.deps;
    const started = ++this.#starts;
    const life = this.deps.shared ? undefined : this.#lifeStarted(id, started);
    this.#asleep.woke(id);
    const process = processes.spawn(this.#logic, {
      name: SESSION_PREFIX + id,
      // What an inspector names the actor by.
      systemId: SESSION_PREFIX + id,
      input: { sessionId: id, ttlMs: this.#idleMs },
    });
    if (use) this.#activity.touch(id, this.#idleMs);
    // On a NATS node, read alongside the load: the record may be gone though this node was not told (it missed the
    // deletion's message), and which life of the id the process serves is the record's.
    const current = this.#nats?.currentSession(id);
    current?.catch(() => {});
    process.actor.on('variable.changed', (event: VariableChangedEvent) => watchers.publish(id, event.change));
    void process.exited.then(() => this.#cleanUp(id, process, started));
    const ready = whenLoaded(id, process, processes, current, (incarnation) => {
      entry.incarnation = incarnation;
      // Only for the id's current process: a stale load must not name its life for a later one's writes.
      if (incarnation !== undefined && this.#sessions.get(id) === entry) this.#tracking.noteLife?.(id, incarnation);
      const local = new LocalSessionProcess(process, processes, incarnation);
      if (life) {
        this.#lifeOf.set(local, { life, started });
        life.processes.push(new WeakRef(local));
      }
      return local;
    });
    const entry: SessionEntry = { process, ready };
    this.#sessions.set(id, entry);
    // Dormant until this process has loaded it: one that ends before (its load failed, it was stopped meanwhile)
    // knows no more of what the store holds than the process before it did.
    if (this.#dormant.has(id))
      ready.then(
        () => this.#dormant.delete(id),
        () => {},
      );
    return entry;
  }

  /** The life of embedded session `id` that its process started `started`th serves: the current one, or a new one. */
  #lifeStarted(id: string, started: number): SessionLife {
    const life = this.#lives.get(id) ?? { lastStart: started, endedUpTo: 0, processes: [] };
    life.lastStart = started;
    // Those no handle holds any more can never be woken: let them go.
    if (life.processes.length > 8) life.processes.splice(0, Infinity, ...life.processes.filter((ref) => ref.deref()));
    this.#lives.set(id, life);
    return life;
  }

  /**
   * What an ended session process, the `started`th this table started, leaves to do. It runs even when the id already
   * has a new process (stopped and reopened in one tick): the old process's modules still belong to a session that
   * ended.
   */
  #cleanUp(id: string, process: ProcessRef<SessionLogic>, started: number): void {
    const { modules, watchers } = this.deps;
    const entry = this.#sessions.get(id);
    const replaced = entry?.process !== process;
    const ending = endingOf(process);
    const gone = ending === 'expired' || ending === 'deleted';
    if (!replaced) {
      // Its last use here still counts on the other nodes (see session-expiry.ts), unless the session is gone.
      if (entry?.incarnation !== undefined && !gone) {
        // On the monotonic clock: a clock step before it is stamped must not age (or rejuvenate) it.
        const lastUsed = this.#activity.lastActiveAt(id) ?? monotonicNow();
        this.#endedUses.set(id, { sessionId: id, lastUsed, incarnation: entry.incarnation });
      }
      this.#sessions.delete(id);
      // Embedded, a session whose process crashed or was stopped keeps its variables in the store with nothing to
      // expire them: its idle time goes on. One that wrote nothing has nothing there, and is not kept.
      const dormant = this.#dormant.has(id) || isDormant(ending, process);
      if (!this.deps.shared && !this.#stopped && !gone && dormant) this.#dormant.add(id);
      else {
        this.#dormant.delete(id);
        this.#activity.forget(id);
      }
      // Its handles answer why it ended from now on (they wake no new process), so the watches made through them
      // end too: they would otherwise hear the writes of the id's next process, which no handle of theirs can reach.
      if (ending !== 'crashed' && ending !== 'hibernated') watchers.clear(id);
    }
    if (gone && !this.deps.shared) this.#noteEnd(id, started, ending);
    // A dormant session's life goes on until it ends: a stopped handle must hear of that end (see `#endedSince`).
    else if (ending !== 'crashed' && ending !== 'hibernated' && !this.deps.shared && !this.#dormant.has(id))
      this.#forgetStoppedLife(id, started);
    // A crashed or hibernated session comes back on next use and its modules go on; other endings end them. Those
    // of a session idle long enough to hibernate are likely idle too: the idle ones hibernate with it.
    if (ending === 'hibernated' && !this.#sessions.has(id)) {
      modules.hibernateSession(id);
      this.#asleep.fellAsleep(id, process, entry?.incarnation);
    } else if (ending !== 'crashed' && ending !== 'hibernated') void modules.stopSession(id, ending);
    // No process of the session is left here: a NATS node's store can drop its cache (the next load refills it).
    if (!this.#sessions.has(id)) this.#tracking.forgetSession?.(id);
  }
}

/**
 * Whether an embedded session whose process ended so is still a session with keys in the store: one whose process
 * crashed (what it holds there is not known), or one stopped after it saw a key of its own (a variable, or a delete
 * marker) or while a write of it was under way (stopped from outside, a process does not wait for its write, which
 * may land after it). One that could not load is not: expiring it would load it again at every idle sweep while the
 * store fails.
 */
function isDormant(ending: SessionEnding | undefined, process: ProcessRef<SessionLogic>): boolean {
  if (ending === 'crashed') return true;
  const { revisions, inFlight } = process.getSnapshot().context;
  return (ending === 'stopped' || ending === 'shutdown') && (revisions.size > 0 || inFlight !== null);
}
