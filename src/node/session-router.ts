/**
 * The router of a node's store changes: each session process running here gets the changes of its session that it
 * has not applied yet, in one event; an embedded runtime also hears there that another runtime sharing its store
 * deleted or used one of its sessions.
 * @module
 */
import type { ProcessRef } from '../runtime/process.js';
import { hasNews } from '../session/apply-store-change.js';
import { frozenChanges } from '../session/frozen-writes.js';
import type { SessionLogic } from '../session/session-logic.js';
import { changesBySession } from '../store/changes-by-session.js';
import type { StoreChange } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import type { DormantSessions } from './dormant-sessions.js';
import { ENDED_KEY } from './embedded-deletion.js';

/** What a {@link SessionRouter} reaches a node's sessions through. */
export interface SessionRouterDeps {
  /** The session processes running here, by session id. */
  readonly sessions: ReadonlyMap<string, { readonly process: ProcessRef<SessionLogic> }>;
  /** An embedded runtime's dormant sessions. */
  readonly dormant: DormantSessions;
  /** Whether the sessions are an embedded runtime's (no NATS node attached): other runtimes on the store share them. */
  readonly embedded: () => boolean;
  /** Ends what the node has of session `id`, deleted by another runtime on the store. */
  readonly deleted: (id: string) => void;
  /** Counts a use of session `id`, running here, by another runtime on the store. */
  readonly used: (id: string) => void;
  readonly report: (error: unknown, where: string) => void;
}

/** Hands a node's store changes to its session processes. */
export class SessionRouter {
  constructor(private readonly deps: SessionRouterDeps) {}

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
      if (deleted && this.deps.embedded()) this.deps.deleted(id);
      variables = changes.filter((change) => change.key !== endedKey);
      if (variables.length === 0) return;
    }
    const entry = this.deps.sessions.get(id);
    if (!entry?.process.alive) {
      // Dormant here (its process stopped or crashed, its expiry still counted): no process of it runs here to
      // write, so the change is another runtime's use, and must not let it expire here under that runtime.
      if (this.deps.embedded()) this.deps.dormant.touch(id);
      return;
    }
    const { actor } = entry.process;
    // Only what the process has not applied (never its own commits' echoes): each event is a transition.
    if (!hasNews(actor.getSnapshot().context, id, variables)) return;
    // Another embedded runtime sharing the store wrote it: a use of the session, which must not expire here and purge
    // what that runtime is writing. A NATS node counts only its own uses: each node stamps the session's record.
    if (this.deps.embedded()) this.deps.used(id);
    // Frozen, the event as its list: an inspector is shown it before the process applies it (frozen-writes.ts).
    actor.send(Object.freeze({ type: 'store.changed', changes: frozenChanges(variables) }));
  }
}
