/**
 * What one `onState` listener of a remote module handle hears, so that it hears what an embedded handle's does: the
 * module's current state first, then every change after it, never the same state of the same execution twice in a
 * row. Remotely the current state is a read (`describe`), whose answer may come after changes published meanwhile
 * (a node sends the events its process emitted before a reply, and another node's interleave at will): those are
 * held until the answer, which is told first, and then those the answer does not already include.
 * @module
 */
import type { ModuleDescription } from '../../machines/module.machine.js';

/** A module's state: `idle`, `syncing` or `executing`. */
type ModuleState = ModuleDescription['state'];

/** An `onState` listener: the state, and the execution being synced or executed (`undefined` while idle). */
export type ModuleStateListener = (state: ModuleState, executionId: string | undefined) => void;

/** The state of a module at one moment, as a read or a change names it. */
export interface ModuleStateAt {
  readonly state: ModuleState;
  readonly executionId?: string | undefined;
}

/** Feeds one listener; see the module's header. */
export interface ModuleStateFollower {
  /** A change a node published: held until {@link read} or {@link unread}, told at once after. */
  change(state: ModuleState, executionId: string | undefined): void;
  /** The read answered: its state is told, then the held changes that came after it. */
  read(current: ModuleStateAt): void;
  /** The read failed without a state: the held changes are told as they came. */
  unread(): void;
  /**
   * A new read is under way (the connection is back, and changes published while it was down are lost): changes are
   * held again until it answers, and its state is told if it is not the one told last.
   */
  reread(): void;
}

/** How far an execution has gone in each busy state: it syncs before it executes, once each per process. */
const STEP: Readonly<Record<ModuleState, number>> = { idle: 0, syncing: 1, executing: 2 };

/**
 * How many of the `held` changes the read's answer `current` already includes: up to the last one of the execution it
 * names that is not further on than it. An idle answer tells nothing of where it was read among them (idle comes
 * between any two executions), so it includes none: the first of them follows it, as the change it is.
 */
export function includedInRead(held: readonly ModuleStateAt[], current: ModuleStateAt): number {
  const { executionId } = current;
  if (executionId === undefined) return 0;
  for (let i = held.length - 1; i >= 0; i--) {
    const change = held[i]!;
    if (change.executionId === executionId && STEP[change.state] <= STEP[current.state]) return i + 1;
  }
  return 0;
}

/** Follows the module's state for `listener` (which must not throw: guard it first). */
export function followModuleState(listener: ModuleStateListener): ModuleStateFollower {
  /** The changes heard before the read answered; `undefined` once it has (or failed). */
  let held: ModuleStateAt[] | undefined = [];
  let last: ModuleStateAt | undefined;
  // As an embedded handle: a listener hears changes, and two nodes' events (or an idle read, then the idle the
  // execution it saw end published) may repeat a state it was just told.
  const tell = ({ state, executionId }: ModuleStateAt): void => {
    if (last && last.state === state && last.executionId === executionId) return;
    last = { state, executionId };
    listener(state, executionId);
  };
  const release = (from: number): void => {
    const changes = held ?? [];
    held = undefined;
    for (const change of changes.slice(from)) tell(change);
  };
  return {
    change(state, executionId) {
      if (held) held.push({ state, executionId });
      else tell({ state, executionId });
    },
    read(current) {
      if (!held) return;
      tell(current);
      release(includedInRead(held, current));
    },
    unread() {
      release(0);
    },
    reread() {
      held ??= [];
    },
  };
}
