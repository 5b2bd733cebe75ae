/**
 * A node's part in the life of sessions shared over NATS, in one place: opening them (the directory's record,
 * cleaning up after an earlier life of the id), checking that one still exists, deleting them, and, once the node
 * serves, hearing of deletions and expiries from other nodes (session-control.ts) and taking part in idle expiry
 * (session-expiry.ts). The runtime that serves supplies what only it knows: its processes and their use.
 * @module
 */
import type { NatsConnection } from 'nats';
import { SessionError } from '../errors.js';
import type { Session } from '../session/session.js';
import type { Store } from '../store/store.js';
import { assertSessionId } from '../variables/names.js';
import type { ConnectionLink } from './connection-link.js';
import type { EventOutbox } from './event-outbox.js';
import { createKvStore } from './kv-store.js';
import { startSessionControl, type LocalEnd, type SessionControl, type SessionEndReason } from './session-control.js';
import type { SessionDirectory } from './session-directory.js';
import type { SessionProvider } from './session-provider.js';
import { incarnationOf } from './session-record.js';
import { startSessionExpiry, type SessionExpiry, type SessionUse } from './session-expiry.js';
import { createSessionRemoval } from './session-removal.js';
import type { StopGrace } from './stop-grace.js';
import type { TetherSubjects } from './subjects.js';

/** What the serving runtime tells the node about its sessions. */
export interface NodeSessions {
  /** The session TTL: idle that long on every node, a session expires. */
  readonly ttlMs: number;
  /**
   * Ends what this node has of the session's life `incarnation` (any life when undefined): its process, a write in
   * flight first, its modules, its watchers; its handles then get `session_not_found` (deleted) or
   * `session_expired`. Synchronously says whether it had anything.
   */
  endLocal(sessionId: string, incarnation: string | undefined, reason: SessionEndReason): LocalEnd;
  /** The sessions used on this node since the last call: running ones, and those whose process ended meanwhile. */
  uses(): Iterable<SessionUse>;
  /** The error of a handle of the life `incarnation` when this node heard that life end (see ended-sessions.ts). */
  ended?(sessionId: string, incarnation: string): SessionError | undefined;
  /**
   * The longest a session request waits here for its answer, once any read-your-writes wait is over (a write's
   * call timeout, which covers its ride through an election); told to callers that asked for late notices.
   */
  readonly answerWithinMs?: number;
}

/** Options of {@link openSessionLife}. */
export interface SessionLifeOptions {
  readonly directory: SessionDirectory;
  /** The node's store of variables. */
  readonly variables: Store<unknown>;
  readonly variablesBucket: string;
  readonly modulesBucket: string;
  readonly replicas?: number;
  /** How long a bucket operation waits through an election of its stream's leader (see retry-unavailable.ts). */
  readonly unavailableRetryMs?: number;
  readonly subjects: TetherSubjects;
  /**
   * Where the end of a session is published: the node's event outbox, so that it goes, as its other events do, once
   * the connection is back when it is down (see held-output.ts), and after the `module.failed` events it follows.
   */
  readonly events: EventOutbox;
  readonly report: (error: unknown, where: string) => void;
}

/** A node's side of the life of sessions. */
export interface SessionLife {
  /**
   * Records the session as existing; resolves to the `incarnation` of the life it began, if it did (see
   * {@link SessionRemoval.open}).
   */
  open(sessionId: string): Promise<string | undefined>;
  /** The incarnation of the session as its record says now (a KV read), `undefined` when it does not exist. */
  current(sessionId: string): Promise<string | undefined>;
  /** Before a use is served here: see {@link SessionExpiry.fresh} (`undefined` while the node does not serve). */
  fresh(sessionId: string, incarnation: string): Promise<void> | undefined;
  /** Deletes the session everywhere (its life `incarnation` only, when given); `session_not_found` without one. */
  delete(sessionId: string, incarnation?: string): Promise<void>;
  /** Sessions by id for the service; `start(id, create)` hands out the node's handle. */
  provider(start: (sessionId: string, create: boolean) => Promise<Session>): SessionProvider;
  /**
   * Hears ends of sessions from other nodes and takes part in expiry, until {@link SessionLife.stop}; `link` is the
   * node's connection, which expiry leaves an outage to (see `SessionExpiryDeps.link`).
   */
  serve(sessions: NodeSessions, link: ConnectionLink): Promise<void>;
  /** The connection is back after dropping: deletions may have been missed, so the records are read again. */
  reconnected(): void;
  /**
   * Stops hearing and expiring (noting this node's last uses of sessions first, waiting for a connection that is down
   * within `grace`, the node's stop's one grace for it; see stop-grace.ts).
   */
  stop(grace?: StopGrace): Promise<void>;
}

/** Opens a node's side of the life of sessions (the modules bucket must exist already). */
export async function openSessionLife(connection: NatsConnection, options: SessionLifeOptions): Promise<SessionLife> {
  const { directory, subjects, report } = options;
  const specs = await createKvStore<unknown>(connection, {
    bucket: options.modulesBucket,
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.unavailableRetryMs !== undefined ? { unavailableRetryMs: options.unavailableRetryMs } : {}),
  });
  let control: SessionControl | undefined;
  let ended: NodeSessions['ended'];
  let expiry: SessionExpiry | undefined;
  const removal = createSessionRemoval({
    connection,
    directory,
    variables: options.variables,
    variablesBucket: options.variablesBucket,
    specs,
    modulesBucket: options.modulesBucket,
    control: () => control,
    // Core NATS, as variable events: remote watches of the session end on it (see remote-watch.ts). Through the
    // outbox, not on the connection at once: nats.js drops what is published while it dials again, and the node may
    // have been cut off while it waited for the other nodes' answers.
    announce: (sessionId, incarnation, reason) =>
      options.events.publish(subjects.sessionEvent(sessionId), { sessionId, incarnation, reason }),
    ...(options.unavailableRetryMs !== undefined ? { unavailableRetryMs: options.unavailableRetryMs } : {}),
  });

  return {
    open: (sessionId) => removal.open(sessionId),
    async current(sessionId) {
      const found = await directory.read(sessionId);
      if (found) expiry?.note(found);
      return found && incarnationOf(found.record);
    },
    fresh: (sessionId, incarnation) => expiry?.fresh(sessionId, incarnation),
    delete: (sessionId, incarnation) => removal.delete(sessionId, incarnation),
    provider(start) {
      return {
        async session(id, { create }) {
          assertSessionId(id);
          if (!create && !(await directory.exists(id))) throw new SessionError('session_not_found', id);
          return start(id, create);
        },
        async open(id) {
          assertSessionId(id);
          const began = await removal.open(id);
          // Opened already (a no-op now); the life loaded is the one begun here unless a deletion came in between.
          const session = await start(id, true);
          return { session, created: began !== undefined && session.incarnation === began };
        },
        delete: (id, incarnation) => removal.delete(id, incarnation),
        ended: (id, incarnation) => ended?.(id, incarnation),
      };
    },
    async serve(sessions, link) {
      ended = sessions.ended?.bind(sessions);
      const endLocal = (sessionId: string, incarnation: string | undefined, reason: SessionEndReason): LocalEnd => {
        directory.forget(sessionId);
        return sessions.endLocal(sessionId, incarnation, reason);
      };
      control = await startSessionControl(connection, subjects, endLocal, { report });
      expiry = startSessionExpiry({
        directory,
        removal,
        ttlMs: sessions.ttlMs,
        uses: () => sessions.uses(),
        lost: (sessionId, incarnation, reason) => void endLocal(sessionId, incarnation, reason).done.catch(() => {}),
        report,
        link,
      });
    },
    reconnected() {
      expiry?.recheck();
    },
    async stop(grace) {
      // Expiries under way still tell the other nodes, and hear this one.
      await expiry?.stop(grace);
      control?.close();
      await specs.close();
    },
  };
}
