/**
 * On a NATS node, the uses of its sessions since expiry last asked, for the stamps of their activity (each node stamps
 * the session's record with its own uses, session-expiry.ts): those of the sessions running here, the last use of
 * those whose process ended, and the use its modules make of a session whose process is not running (it hibernated,
 * and an embedded module handle woke the module alone).
 * @module
 */
import type { SessionUse } from '../nats/session-expiry.js';
import { monotonicNow, type IdleClock } from '../runtime/idle-clock.js';

/** A session running here, as its uses are read: the life its process serves, once loaded. */
interface RunningSession {
  readonly process: { readonly alive: boolean };
  readonly incarnation?: string | undefined;
}

/** The uses of a NATS node's sessions, since expiry last asked. */
export class SessionUses {
  /**
   * The last use since expiry last asked (see {@link take}) of the sessions whose process ended, and of those whose
   * modules were used here while their process was not running.
   */
  readonly #endedUses = new Map<string, SessionUse>();
  /**
   * The sessions whose modules run an execution here while the session's own process does not, with the life they
   * belong to: a use of the session until the execution ends, which {@link take} reports as the running sessions'
   * busy modules are.
   */
  readonly #usedByModulesAlone = new Map<string, string>();

  /**
   * @param activity the sessions' idle clock, which tells when a session running here was last used
   * @param busy whether a module of session `id` runs an execution here (or has one waiting)
   */
  constructor(
    private readonly activity: Pick<IdleClock<string>, 'lastActiveAt'>,
    private readonly busy: (sessionId: string) => boolean,
  ) {}

  /** The process of session `id`, serving its life `incarnation`, ended: its last use here still counts. */
  ended(id: string, incarnation: string): void {
    // On the monotonic clock: a clock step before it is stamped must not age (or rejuvenate) it.
    const lastUsed = this.activity.lastActiveAt(id) ?? monotonicNow();
    this.#endedUses.set(id, { sessionId: id, lastUsed, incarnation });
  }

  /**
   * A module of session `id` (life `incarnation`) changed state here while the session's process is not running here:
   * a use of the session now, and for as long as it stays `busy`.
   */
  byModule(id: string, incarnation: string, busy: boolean): void {
    this.#endedUses.set(id, { sessionId: id, lastUsed: monotonicNow(), incarnation });
    if (busy || this.busy(id)) this.#usedByModulesAlone.set(id, incarnation);
    else this.#usedByModulesAlone.delete(id);
  }

  /**
   * The sessions used here since the last call: those `running` here (last used as the idle clock says, or now while a
   * module of theirs is busy), and those noted since.
   */
  take(running: ReadonlyMap<string, RunningSession>): SessionUse[] {
    const now = monotonicNow();
    for (const [sessionId, incarnation] of this.#usedByModulesAlone) {
      if (running.has(sessionId) || !this.busy(sessionId)) this.#usedByModulesAlone.delete(sessionId);
      else this.#endedUses.set(sessionId, { sessionId, lastUsed: now, incarnation });
    }
    const uses = [...this.#endedUses.values()];
    this.#endedUses.clear();
    for (const [sessionId, entry] of running) {
      if (entry.incarnation === undefined || !entry.process.alive) continue;
      // A module executing here uses the session now, however long ago the execution's sync read it.
      const lastUsed = this.busy(sessionId) ? now : (this.activity.lastActiveAt(sessionId) ?? now);
      uses.push({ sessionId, lastUsed, incarnation: entry.incarnation });
    }
    return uses;
  }
}
