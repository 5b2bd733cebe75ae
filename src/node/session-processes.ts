/**
 * The starts and ends of a node's session processes: spawning one (it loads its variables and, on a NATS node,
 * learns its session's life from the record read alongside), and what one leaves to do when it ends (its entry,
 * its watchers, its modules, its dormancy, its last use). The session table decides when; this does the how.
 * @module
 */
import type { VariableChangedEvent } from '../../machines/session.machine.js';
import { inspectAs } from '../nats/inspection.js';
import type { NatsNode } from '../nats/nats-node.js';
import type { TrackingStore } from '../nats/tracking-store.js';
import type { IdleClock } from '../runtime/idle-clock.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { SessionProcess } from '../session/session-host.js';
import type { OwedPurges } from '../session/owed-purges.js';
import { createSessionLogic, type SessionLogic } from '../session/session-logic.js';
import type { WatchHub } from '../session/watch-hub.js';
import type { Store } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import type { DormantSessions } from './dormant-sessions.js';
import type { EmbeddedLives } from './embedded-lives.js';
import { LocalSessionProcess, endingOf } from './local-session-process.js';
import type { ModuleDirectory } from './module-directory.js';
import type { RoutedRevisions } from './routed-revisions.js';
import { whenLoaded } from './session-load.js';
import { SessionsAsleep } from './sessions-asleep.js';
import type { SessionUses } from './session-uses.js';

/** A live session process and its handle. */
export interface SessionEntry {
  readonly process: ProcessRef<SessionLogic>;
  /** Resolves once the process has loaded its variables. */
  readonly ready: Promise<SessionProcess>;
  /** On a NATS node, the life of the session (its record's incarnation) the process loaded, once known. */
  incarnation?: string | undefined;
}

const SESSION_PREFIX = 'tether.session.';

/** What {@link SessionProcesses} reaches of its session table. */
export interface SessionProcessesDeps {
  readonly processes: ProcessRuntime;
  readonly store: Store<VariableRecord>;
  readonly watchers: WatchHub;
  readonly modules: ModuleDirectory;
  /** Sessions are shared with other nodes (a NATS node). */
  readonly shared: boolean;
  readonly report: (error: unknown, where: string) => void;
  /** The purges the runtime owes, shared with its deletions (see {@link OwedPurges}). */
  readonly owed: OwedPurges;
  /** The table's running session processes, by session id: a start adds its entry, an end removes it. */
  readonly sessions: Map<string, SessionEntry>;
  /** The sessions' idle clock. */
  readonly activity: IdleClock<string>;
  /** How long a session may go unused before its process goes. */
  readonly idleMs: number;
  readonly dormant: DormantSessions;
  readonly lives: EmbeddedLives;
  readonly uses: SessionUses;
  /** A NATS node's store also keeps per session what its events need; any other store does without. */
  readonly tracking: Partial<Pick<TrackingStore, 'forgetSession' | 'noteLife' | 'waitUntilRouted'>>;
  /** How far the router has handed over the store's changes, where the store does not track it (embedded). */
  readonly routed: RoutedRevisions;
  /** The NATS node, once attached. */
  readonly nats: () => NatsNode | undefined;
  /** Whether the table stopped. */
  readonly stopped: () => boolean;
}

/** Starts a node's session processes and cleans up after them. */
export class SessionProcesses {
  readonly #logic: SessionLogic;
  #starts = 0;
  /** What an inspector last saw of the sessions hibernating here, to show each stopped if it ends asleep. */
  readonly asleep: SessionsAsleep;

  constructor(private readonly deps: SessionProcessesDeps) {
    this.#logic = createSessionLogic({
      store: deps.store,
      activity: deps.activity,
      report: (error, sessionId) => deps.report(error, `session ${sessionId}`),
      // On a node, the node that expires a session removes its variables once every node's process has ended.
      purgeOnExpiry: !deps.shared,
      owed: deps.owed,
      // A write that lost a race folds in what it re-read only once the router got that far: a NATS node's router
      // (its store tracks it), or an embedded runtime's, whose store's watch may lag another runtime's writes.
      ...(deps.tracking.waitUntilRouted
        ? { routed: deps.tracking.waitUntilRouted }
        : { routed: (revision: number) => deps.routed.waitUntil(revision), loadWaitsForRouter: false }),
    });
    // Its processes are the ones an inspecting node publishes as sessions: by this object, not a machine id.
    inspectAs(this.#logic, 'session');
    this.asleep = new SessionsAsleep(deps.processes, this.#logic, (id) => SESSION_PREFIX + id);
  }

  /** How many processes have been started so far (the last one started is the `starts`th). */
  get starts(): number {
    return this.#starts;
  }

  /**
   * Starts a process of `id`. A start that is no use of the session (`use` false: one to expire a dormant session)
   * leaves its idle time as it was: counted as a use, it put the expiry off by a whole TTL, with the session loaded.
   */
  start(id: string, use = true): SessionEntry {
    const { processes, watchers } = this.deps;
    const started = ++this.#starts;
    const life = this.deps.shared ? undefined : this.deps.lives.started(id, started);
    this.asleep.woke(id);
    const process = processes.spawn(this.#logic, {
      name: SESSION_PREFIX + id,
      // What an inspector names the actor by.
      systemId: SESSION_PREFIX + id,
      input: { sessionId: id, ttlMs: this.deps.idleMs },
    });
    if (use) this.deps.activity.touch(id, this.deps.idleMs);
    // On a NATS node, read alongside the load: the record may be gone though this node was not told (it missed the
    // deletion's message), and which life of the id the process serves is the record's.
    const current = this.deps.nats()?.currentSession(id);
    current?.catch(() => {});
    process.actor.on('variable.changed', (event: VariableChangedEvent) => watchers.publish(id, event.change));
    void process.exited.then(() => this.#cleanUp(id, process, started));
    const ready = whenLoaded(id, process, processes, current, (incarnation) => {
      entry.incarnation = incarnation;
      // Only for the id's current process: a stale load must not name its life for a later one's writes.
      if (incarnation !== undefined && this.deps.sessions.get(id) === entry)
        this.deps.tracking.noteLife?.(id, incarnation);
      const local = new LocalSessionProcess(process, processes, incarnation);
      if (life) this.deps.lives.serves(local, life, started);
      return local;
    });
    const entry: SessionEntry = { process, ready };
    this.deps.sessions.set(id, entry);
    this.deps.dormant.loading(id, ready);
    return entry;
  }

  /**
   * What an ended session process, the `started`th this table started, leaves to do. It runs even when the id already
   * has a new process (stopped and reopened in one tick): the old process's modules still belong to a session that
   * ended.
   */
  #cleanUp(id: string, process: ProcessRef<SessionLogic>, started: number): void {
    const { modules, watchers, sessions, dormant, lives } = this.deps;
    const entry = sessions.get(id);
    const replaced = entry?.process !== process;
    const ending = endingOf(process);
    const gone = ending === 'expired' || ending === 'deleted';
    if (!replaced) {
      // Its last use here still counts on the other nodes (see session-expiry.ts), unless the session is gone.
      if (entry?.incarnation !== undefined && !gone) this.deps.uses.ended(id, entry.incarnation);
      sessions.delete(id);
      dormant.processEnded(id, ending, process, !this.deps.shared && !this.deps.stopped() && !gone);
      // Its handles answer why it ended from now on (they wake no new process), so the watches made through them
      // end too: they would otherwise hear the writes of the id's next process, which no handle of theirs can reach.
      if (ending !== 'crashed' && ending !== 'hibernated') watchers.clear(id);
    }
    if (gone && !this.deps.shared) lives.noteEnd(id, started, ending);
    // A dormant session's life goes on until it ends: a stopped handle must hear of that end (see
    // `EmbeddedLives.endedSince`).
    else if (ending !== 'crashed' && ending !== 'hibernated' && !this.deps.shared && !dormant.has(id))
      lives.forgetStopped(id, started);
    // A crashed or hibernated session comes back on next use and its modules go on; other endings end them. Those
    // of a session idle long enough to hibernate are likely idle too: the idle ones hibernate with it.
    if (ending === 'hibernated' && !sessions.has(id)) {
      modules.hibernateSession(id);
      this.asleep.fellAsleep(id, process, entry?.incarnation);
    } else if (ending !== 'crashed' && ending !== 'hibernated') void modules.stopSession(id, ending);
    // No process of the session is left here: a NATS node's store can drop its cache (the next load refills it).
    if (!sessions.has(id)) this.deps.tracking.forgetSession?.(id);
  }
}
