/**
 * What a Session handle needs from the runtime that hosts its process. Kept as an interface so the handle
 * does not depend on how processes are started (embedded now, woken from NATS later).
 * @module
 */
import type { SessionMachineContext } from '../../machines/session.machine.js';
import type { Store } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import type { SerialTasks } from './serial-tasks.js';
import type { SessionModules } from './session-modules.js';
import type { WatchHub } from './watch-hub.js';
import type { WriteRequest } from './write-plan.js';

/** A running session process as the handle sees it. */
export interface SessionProcess {
  /** False once the process has exited, for whatever reason. */
  readonly alive: boolean;
  /** The committed state: variables and the store revisions they were read at. */
  context(): SessionMachineContext;
  /** How the process ended, once it has: a final state name, or `crashed` / `shutdown`. */
  ending(): SessionEnding | undefined;
  /**
   * Which life of the session id the process serves: on a NATS node the session record's incarnation (an id
   * deleted and opened again is another session), `undefined` on an embedded runtime.
   */
  readonly incarnation?: string | undefined;
  /**
   * Once the process has exited: whether it was carrying out `request` then (its commit under way, or part of a
   * batch written), so the write may be in the store though its caller got no reply.
   */
  cutOff?(request: WriteRequest): boolean;
  /**
   * Takes `request` out of the queue when its caller stopped waiting (its call timed out) and it has not started:
   * `true` when it was taken out (it will never be carried out), `false` when it started, or is gone already.
   */
  withdraw?(request: WriteRequest): boolean;
  /** Sends an event and waits for the reply (GenServer.call). */
  call(event: { readonly type: string } & Record<string, unknown>, timeoutMs: number): Promise<unknown>;
}

/** How a session process ended: a final state of the session machine, or `crashed` / `shutdown`. */
export type SessionEnding = 'expired' | 'hibernated' | 'stopped' | 'deleted' | 'failed' | 'crashed' | 'shutdown';

/** The runtime side of a session. */
export interface SessionHost {
  readonly store: Store<VariableRecord>;
  readonly watchers: WatchHub;
  readonly modules: SessionModules;
  readonly callTimeoutMs: number;
  /** How long a write waits for its process: `callTimeoutMs`, plus the time a commit may wait out an election. */
  readonly writeTimeoutMs: number;
  /** The runtime's `updateVariable`s, one at a time per variable. */
  readonly updates: SerialTasks;
  /**
   * Starts a new process for a session whose previous one, `ended`, crashed or hibernated; resolves once it has
   * loaded. Rejects with `SessionError` when the session of `incarnation` is gone meanwhile (deleted, or expired on
   * every node), or, embedded, when the session `ended` served was expired or deleted while no process ran it: a
   * handle of it must not wake a session opened again under the same id.
   */
  restart(sessionId: string, incarnation: string | undefined, ended: SessionProcess): Promise<SessionProcess>;
  /**
   * Deletes the session for good: its processes (here and, on NATS, on every node), its variables with their
   * history, its modules. `incarnation`: only that life of the session id (else `session_not_found`); `previous`,
   * the caller's process: embedded, a session that ended since it started is not deleted (why it ended rejects).
   */
  deleteSession(sessionId: string, incarnation: string | undefined, previous?: SessionProcess): Promise<void>;
  /** Records activity, which postpones idle expiry. */
  touch(sessionId: string): void;
  /**
   * Whether the runtime stopped taking uses of its sessions: a use not yet in a process is refused with
   * `session_stopped` from then on, while those already in one finish.
   */
  stopped(): boolean;
  /**
   * Before a use that waits anyway (a write, a wake) is served: on a NATS node, a stamp of the session's record to
   * wait for when the node's last sight of it is old, so that expiry cannot take the use (see session-expiry.ts);
   * `undefined` otherwise. Rejects with `SessionError` when the session is gone.
   */
  fresh?(sessionId: string, incarnation: string | undefined): Promise<void> | undefined;
}
