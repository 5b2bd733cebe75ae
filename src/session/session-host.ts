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

/** A running session process as the handle sees it. */
export interface SessionProcess {
  /** False once the process has exited, for whatever reason. */
  readonly alive: boolean;
  /** The committed state: variables and the store revisions they were read at. */
  context(): SessionMachineContext;
  /** How the process ended, once it has: a final state name, or `crashed` / `shutdown`. */
  ending(): 'expired' | 'hibernated' | 'stopped' | 'failed' | 'crashed' | 'shutdown' | undefined;
  /** Sends an event and waits for the reply (GenServer.call). */
  call(event: { readonly type: string } & Record<string, unknown>, timeoutMs: number): Promise<unknown>;
}

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
  /** Starts a new process for a session whose previous one crashed or hibernated; resolves once it has loaded. */
  restart(sessionId: string): Promise<SessionProcess>;
  /** Records activity, which postpones idle expiry. */
  touch(sessionId: string): void;
}
