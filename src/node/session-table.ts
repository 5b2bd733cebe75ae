/**
 * The session processes of a node by id: starting them (loading their variables), routing store changes to
 * them (session-router.ts), letting them go when idle (expiry on an embedded runtime, hibernation on a NATS node),
 * ending them when their session is deleted or expires, and what an ended process leaves to do. The Runtime is the
 * API over it.
 *
 * On a NATS node a session has lives: deleted (or expired) and opened again, an id is another session, told apart
 * by its record's incarnation. A process learns its life from the record, read alongside its load, and a handle
 * keeps the life of the process it was given, so it never wakes a later life of its id.
 * @module
 */
import { SessionError } from '../errors.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { LocalEnd, SessionEndReason } from '../nats/session-control.js';
import type { SessionUse } from '../nats/session-expiry.js';
import type { TrackingStore } from '../nats/tracking-store.js';
import { IdleClock } from '../runtime/idle-clock.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import { Session } from '../session/session.js';
import type { SessionHost, SessionProcess } from '../session/session-host.js';
import { SerialTasks } from '../session/serial-tasks.js';
import type { WatchHub } from '../session/watch-hub.js';
import type { Store, StoreChange } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import { EmbeddedDeletions } from './embedded-deletion.js';
import { OwedPurges } from '../session/owed-purges.js';
import { EmbeddedLives } from './embedded-lives.js';
import { DormantSessions } from './dormant-sessions.js';
import { EndedSessions } from './ended-sessions.js';
import { SessionProcesses, type SessionEntry } from './session-processes.js';
import { RoutedRevisions } from './routed-revisions.js';
import { SessionRouter } from './session-router.js';
import { SessionUses } from './session-uses.js';
import type { ModuleDirectory } from './module-directory.js';

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

/** A node's session processes. */
export class SessionTable {
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #activity: IdleClock<string>;
  /** How long a session may go unused before its process goes: the TTL, or on a NATS node hibernation's. */
  readonly #idleMs: number;
  readonly #ended = new EndedSessions();
  /** An embedded runtime's sessions whose process ended without ending the session (see {@link DormantSessions}). */
  readonly #dormant: DormantSessions;
  /** The lives of each embedded session id (see {@link EmbeddedLives}). */
  readonly #lives = new EmbeddedLives((id) => this.#sessions.has(id) || this.#dormant.has(id));
  /** What session handles reach the runtime through. */
  readonly host: SessionHost;
  #nats: NatsNode | undefined;
  #stopped = false;
  /** Embedded deletions under way: a stop waits for them, so nothing of this runtime writes to the store after it. */
  readonly #deletions: EmbeddedDeletions;
  /** A NATS node's store also keeps per session what its events need; any other store does without. */
  readonly #tracking: Partial<Pick<TrackingStore, 'forgetSession' | 'noteLife' | 'waitUntilRouted'>>;
  /** On a NATS node, the uses of its sessions since expiry last asked (see {@link uses}). */
  readonly #uses: SessionUses;
  readonly #router: SessionRouter;
  /** How far the router has got, for a write that lost a race (where the store does not track it: embedded). */
  readonly #routed = new RoutedRevisions();
  /** Starts the session processes and cleans up after them. */
  readonly #processes: SessionProcesses;

  constructor(private readonly deps: SessionTableDeps) {
    this.#idleMs = deps.shared ? deps.hibernateAfterMs : deps.ttlMs;
    this.#tracking = deps.store as Partial<TrackingStore>;
    // One record of the purges owed: a deletion's that failed is done by the next process of the id, as an expiry's.
    const owed = new OwedPurges();
    this.#deletions = new EmbeddedDeletions(deps.store, owed);
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
      if (this.#dormant.has(sessionId)) return this.#dormant.expire(sessionId);
      this.#sessions.get(sessionId)?.process.actor.send({ type: idle });
    });
    this.#uses = new SessionUses(this.#activity, (sessionId) => deps.modules.busy(sessionId));
    this.#dormant = new DormantSessions({
      activity: this.#activity,
      idleMs: this.#idleMs,
      // A start that is no use of the session (see `SessionProcesses.start`); none once stopped.
      start: (id) => (this.#stopped ? undefined : this.#running(id, false)),
      report: deps.report,
    });
    this.#router = new SessionRouter({
      sessions: this.#sessions,
      dormant: this.#dormant,
      embedded: () => !this.#nats,
      deleted: (id) => this.endLocal(id, undefined, 'deleted'),
      used: (id) => this.#activity.touch(id, this.#idleMs),
      report: deps.report,
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
          this.#uses.byModule(id, session.incarnation, state !== 'idle');
        }
      }),
    );
    this.#processes = new SessionProcesses({
      processes: deps.processes,
      store: deps.store,
      watchers: deps.watchers,
      modules: deps.modules,
      shared: deps.shared,
      report: deps.report,
      owed,
      sessions: this.#sessions,
      activity: this.#activity,
      idleMs: this.#idleMs,
      dormant: this.#dormant,
      lives: this.#lives,
      uses: this.#uses,
      tracking: this.#tracking,
      routed: this.#routed,
      nats: () => this.#nats,
      stopped: () => this.#stopped,
    });
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
    return this.#dormant.size === 0 ? this.ids() : [...new Set([...this.#sessions.keys(), ...this.#dormant.ids()])];
  }

  /**
   * Ends what this node has of a session that was deleted or expired (only of its life `incarnation`, when
   * given): its process, once a write in flight is through, its modules, its watchers.
   */
  endLocal(id: string, incarnation: string | undefined, reason: SessionEndReason): LocalEnd {
    if (incarnation !== undefined) this.#ended.remember(id, incarnation, reason);
    this.#dormant.end(id);
    // Hibernating here, it ends without waking: an inspector last saw it go to sleep, and must see it end.
    this.#processes.asleep.ended(id, incarnation);
    // Every process of it started so far served the session that ends: a handle of one that crashed must hear so,
    // though no process of it runs now (one started after the crash and stopped since).
    if (!this.deps.shared) this.#lives.noteEnd(id, this.#processes.starts, reason);
    const entry = this.#sessions.get(id);
    // A process of a newer life (the id was opened again before this news arrived) is not this end's.
    if (incarnation !== undefined && entry?.incarnation !== undefined && entry.incarnation !== incarnation)
      return { had: false, done: Promise.resolve() };
    const process = entry?.process.alive ? entry.process : undefined;
    const had = process !== undefined || this.deps.modules.hasSession(id) || this.deps.watchers.watches(id);
    const done = (async () => {
      if (process) {
        // Frozen: an inspector is shown it before the process reads it, and one that rewrote its reason ended it so.
        process.actor.send(Object.freeze({ type: 'session.end', reason }));
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

  /** The sessions used here since the last call, for the stamps of their activity (see session-expiry.ts). */
  uses(): SessionUse[] {
    return this.#uses.take(this.#sessions);
  }

  /** Hands store changes to their sessions' processes, those running here (see {@link SessionRouter}). */
  route(changes: readonly StoreChange<VariableRecord>[]): void {
    this.#router.route(changes);
    // Once the sessions have them: a write that lost a race waits for this before folding in what it re-read.
    this.#routed.note(changes.reduce((last, { revision }) => Math.max(last, revision), 0));
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
    const deletions = this.#deletions.settling();
    await Promise.race([Promise.all([...processes.map((process) => process.exited), ...deletions]), deadline]);
    clearTimeout(timer);
    this.#processes.asleep.endAll();
  }

  /** Forgets every entry (their processes were stopped). */
  clear(): void {
    this.#sessions.clear();
  }

  /**
   * A new process for a handle whose process, `previous`, crashed or hibernated, if its session's life `incarnation`
   * is on and, embedded, its session has not ended since `previous` started.
   */
  async #restart(id: string, incarnation: string | undefined, previous: SessionProcess): Promise<SessionProcess> {
    const ended = this.#ended.errorFor(id, incarnation) ?? this.#lives.endedSince(id, previous);
    if (ended) throw ended;
    const process = await this.#running(id).ready;
    // Deleted and opened again meanwhile: the handle's session is gone, whatever now goes by its id.
    if (process.incarnation !== incarnation) throw new SessionError('session_not_found', id);
    return process;
  }

  /**
   * Deletes a session (see `Session.delete`): on NATS through the node, everywhere; embedded, here, unless the session
   * that `previous` (the handle's process) served has ended since: the id may name a new session by now.
   */
  async #delete(id: string, incarnation: string | undefined, previous?: SessionProcess): Promise<void> {
    // The store (or the node's connection) is closed: its failure would say so in its own words, not the session's.
    this.#assertServing(id);
    if (this.#nats) {
      return this.#nats.deleteSession(id, incarnation).catch((error: unknown) => {
        // A life this node heard expire says so, as the handle's other calls and a client's delete of it do
        // (session-of-life.ts): the removal only finds the record gone.
        const ended = this.#ended.errorFor(id, incarnation);
        const notFound = error instanceof SessionError && error.code === 'session_not_found';
        throw notFound && ended?.code === 'session_expired' ? ended : error;
      });
    }
    const ended = previous && this.#lives.endedSince(id, previous);
    if (ended) throw ended;
    await this.#deletions.delete(id, () => this.endLocal(id, undefined, 'deleted').done);
  }

  /**
   * Once the runtime stopped, every session of it is stopped: the handles' calls say so (their processes ended), and
   * so does what would start or reach one anew, with the same error.
   */
  #assertServing(id: string): void {
    if (this.#stopped) throw new SessionError('session_stopped', id);
  }

  /**
   * The running process of `id`, started when there is none; `use` false for a start that is no use (see
   * `SessionProcesses.start`).
   */
  #running(id: string, use = true): SessionEntry {
    this.#assertServing(id);
    const running = this.#sessions.get(id);
    if (!running?.process.alive) return this.#processes.start(id, use);
    // A use that joins a process started to expire the session counts: the session must not expire under its user.
    if (use) this.#activity.touch(id, this.#idleMs);
    return running;
  }
}
