/**
 * An embedded runtime's dormant sessions: those whose process ended without ending the session (it crashed, or was
 * stopped) and has not been started again. They are still sessions (their variables are in the store), so still
 * listed and still on the idle clock, which expires them as if they ran. A stopped one left the clock once, and its
 * variables stayed in the store for good: a service that stops each session when its conversation ends grew without
 * bound.
 * @module
 */
import type { IdleClock } from '../runtime/idle-clock.js';
import type { ProcessRef } from '../runtime/process.js';
import type { SessionEnding } from '../session/session-host.js';
import type { SessionLogic } from '../session/session-logic.js';

/** What {@link DormantSessions} work with. */
export interface DormantSessionsDeps {
  /** The sessions' idle clock, which expires a dormant session as it would a running one. */
  readonly activity: IdleClock<string>;
  /** How long a session may go unused. */
  readonly idleMs: number;
  /**
   * Starts a process of session `id` that loads it, without counting as a use of the session; `undefined` once the
   * runtime has stopped.
   */
  readonly start: (
    id: string,
  ) => { readonly process: ProcessRef<SessionLogic>; readonly ready: Promise<unknown> } | undefined;
  readonly report: (error: unknown, where: string) => void;
}

/** The dormant sessions of an embedded runtime, by id, kept on its sessions' idle clock. */
export class DormantSessions {
  readonly #ids = new Set<string>();

  constructor(private readonly deps: DormantSessionsDeps) {}

  /** Whether session `id` is dormant. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** How many sessions are dormant. */
  get size(): number {
    return this.#ids.size;
  }

  /** The dormant sessions' ids. */
  ids(): IterableIterator<string> {
    return this.#ids.values();
  }

  /** Session `id`, if dormant, was used (by another runtime on the store, say): its idle time starts again. */
  touch(id: string): void {
    if (this.#ids.has(id)) this.deps.activity.touch(id, this.deps.idleMs);
  }

  /** Session `id` ended (deleted or expired): if it was dormant, it is no longer, nor on the idle clock. */
  end(id: string): void {
    if (this.#ids.delete(id)) this.deps.activity.forget(id);
  }

  /**
   * Expires dormant session `id` (its process crashed or was stopped) whose idle time is up, as its process would
   * have: a new one loads it and expires at once (its variables purged, its watchers and modules ended). Starting it
   * is no use of the session, but a use that joins it is (see `SessionTable`'s `#running`). One that cannot load is
   * reported, stays dormant and is tried again a TTL later.
   */
  expire(id: string): void {
    const entry = this.deps.start(id);
    if (!entry) return;
    entry.ready.then(
      () => entry.process.actor.send({ type: 'session.expire' }),
      (error: unknown) => {
        // Tried again a TTL later, not at every sweep while the store fails; the session stays dormant meanwhile.
        this.touch(id);
        this.deps.report(error, `session ${id}`);
      },
    );
  }

  /**
   * A new process of session `id` is loading it, `ready` once it has. Dormant until then: one that ends before (its
   * load failed, it was stopped meanwhile) knows no more of what the store holds than the process before it did.
   */
  loading(id: string, ready: Promise<unknown>): void {
    if (this.#ids.has(id))
      ready.then(
        () => this.#ids.delete(id),
        () => {},
      );
  }

  /**
   * The process of session `id` ended as `ending` says. A session whose process crashed or was stopped keeps its
   * variables in the store with nothing to expire them: its idle time goes on, unless `keep` is false (the session is
   * gone, the runtime stopped, or it is a NATS node's). One that wrote nothing has nothing there, and is not kept.
   */
  processEnded(id: string, ending: SessionEnding | undefined, process: ProcessRef<SessionLogic>, keep: boolean): void {
    const dormant = this.#ids.has(id) || isDormant(ending, process);
    if (keep && dormant) this.#ids.add(id);
    else {
      this.#ids.delete(id);
      this.deps.activity.forget(id);
    }
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
