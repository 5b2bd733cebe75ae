/**
 * The lives of an embedded runtime's session ids. An embedded session has no incarnation to tell its lives apart
 * (deleted or expired, then opened again, an id is another session); the numbers of the processes started for it
 * stand in for one, so that a handle of a process that served an ended session hears that it ended rather than wake
 * a new one.
 * @module
 */
import type { SessionError } from '../errors.js';
import type { SessionEnding, SessionProcess } from '../session/session-host.js';
import { sessionEndedError } from '../session/session-process-link.js';

/** The processes of an embedded session id from a start after its last end up to the first end after their last one. */
export interface SessionLife {
  /** The number of the last process started for it. */
  lastStart: number;
  /** Every process started up to this number served a session that ended, as `ending` says. */
  endedUpTo: number;
  ending?: SessionEnding;
  /** Its processes as handles hold them, weakly: a crashed one a handle still holds may be woken again. */
  readonly processes: WeakRef<SessionProcess>[];
}

/** The lives of an embedded runtime's session ids, and the life each of its session processes serves. */
export class EmbeddedLives {
  /**
   * The life of each embedded session id that has a process started since the id last ended (expired or deleted):
   * a handle of a process started no later than an end served an ended session, and must hear that it ended rather
   * than wake a new one when its process crashed (or was crashed when the session ended). A life leaves this map once
   * it ended after its last start, or once its last process stopped and no handle holds a crashed one of it (which a
   * later end must still reach; checked again as each is collected); its processes keep it (in {@link #lifeOf}) for
   * as long as a handle holds one of them.
   */
  readonly #lives = new Map<string, SessionLife>();
  /** Each process's life and its number, in the order the table started them. */
  readonly #lifeOf = new WeakMap<SessionProcess, { readonly life: SessionLife; readonly started: number }>();
  /** Crashed processes that kept a stopped life in {@link #lives}: once one is collected, the life may go. */
  readonly #crashedLetGo = new FinalizationRegistry<{ readonly id: string; readonly life: SessionLife }>(
    ({ id, life }) => {
      // Only if it is still the id's life and no process of it runs or stays crashed (one started since joined it).
      if (this.#lives.get(id) !== life || this.inUse(id)) return;
      this.forgetStopped(id, life.lastStart);
    },
  );

  /**
   * @param inUse whether session `id` has a process running, or one that crashed (or was stopped) without ending the
   *   session and has not been started again
   */
  constructor(private readonly inUse: (id: string) => boolean) {}

  /** The life of embedded session `id` that its process started `started`th serves: the current one, or a new one. */
  started(id: string, started: number): SessionLife {
    const life = this.#lives.get(id) ?? { lastStart: started, endedUpTo: 0, processes: [] };
    life.lastStart = started;
    // Those no handle holds any more can never be woken: let them go.
    if (life.processes.length > 8) life.processes.splice(0, Infinity, ...life.processes.filter((ref) => ref.deref()));
    this.#lives.set(id, life);
    return life;
  }

  /** `process`, the one started `started`th, has loaded and serves `life` (see {@link started}). */
  serves(process: SessionProcess, life: SessionLife, started: number): void {
    this.#lifeOf.set(process, { life, started });
    life.processes.push(new WeakRef(process));
  }

  /** Notes an end of embedded session `id`, served last by the process started `started`th (see {@link #lives}). */
  noteEnd(id: string, started: number, ending: SessionEnding): void {
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
  forgetStopped(id: string, started: number): void {
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

  /** Why embedded session `id` ended since `previous`, a process of it, started; `undefined` when it has not. */
  endedSince(id: string, previous: SessionProcess): SessionError | undefined {
    const served = this.#lifeOf.get(previous);
    if (served?.life.ending !== undefined && served.started <= served.life.endedUpTo)
      return sessionEndedError(id, served.life.ending);
    return undefined;
  }
}
