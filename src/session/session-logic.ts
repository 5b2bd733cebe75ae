/**
 * The session machine with its effects supplied: loading from, committing to and purging the store, and the
 * idle clock that counts reads as activity.
 * @module
 */
import { sessionMachine, type SessionMachineEvent } from '../../machines/session.machine.js';
import { StoreConflictError, errorToJSON } from '../errors.js';
import type { Store, StoreChange, StoreWrite } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';

/**
 * Last activity per session, and one sweeper that tells idle sessions to expire. Reads count as activity, and
 * they never pass through the process, so the process cannot keep this clock itself.
 */
export class SessionActivity {
  readonly #lastActive = new Map<string, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  touch(sessionId: string): void {
    this.#lastActive.set(sessionId, this.clock());
  }

  /** Milliseconds since the session's last activity. */
  idleFor(sessionId: string): number {
    const last = this.#lastActive.get(sessionId);
    return last === undefined ? 0 : this.clock() - last;
  }

  forget(sessionId: string): void {
    this.#lastActive.delete(sessionId);
  }

  /**
   * Every `ttlMs / 4` (between 5 ms and 1 s), calls `expire` for each session idle for `ttlMs` or more. A
   * session may so live up to a quarter of its TTL (at most a second) past it.
   */
  startSweeping(ttlMs: number, expire: (sessionId: string) => void): void {
    const every = Math.min(1000, Math.max(5, Math.floor(ttlMs / 4)));
    this.#sweeper = setInterval(() => {
      const deadline = this.clock() - ttlMs;
      for (const [sessionId, last] of this.#lastActive) if (last <= deadline) expire(sessionId);
    }, every);
    // The sweeper alone must not keep a Node process alive.
    this.#sweeper.unref();
  }

  stopSweeping(): void {
    clearInterval(this.#sweeper);
  }
}

/** What the session machine's effects need. */
export interface SessionLogicDeps {
  readonly store: Store<VariableRecord>;
  readonly activity: SessionActivity;
  /** Told about store failures that no caller waits for (a purge after expiry). */
  readonly report: (error: unknown, sessionId: string) => void;
}

interface Sender {
  send(event: SessionMachineEvent): void;
  getSnapshot(): { status: string };
}

/** Sends only while the process is alive: a store answer can outlive a stopped session. */
function sendIfAlive(self: Sender, event: SessionMachineEvent): void {
  if (self.getSnapshot().status === 'active') self.send(event);
}

/** After a conflict, the store's current state of each key the write touched, as changes to fold in. */
async function currentStateOf(
  store: Store<VariableRecord>,
  writes: readonly StoreWrite<VariableRecord>[],
): Promise<StoreChange<VariableRecord>[]> {
  return Promise.all(
    writes.map(async (write): Promise<StoreChange<VariableRecord>> => {
      const entry = await store.get(write.key);
      if (entry) return { operation: 'put', ...entry };
      // Deleted (or never written): the delete marker's revision makes the session drop its stale record.
      const last = (await store.history(write.key)).at(-1);
      return { operation: 'delete', key: write.key, revision: last?.revision ?? 0 };
    }),
  );
}

/** The session machine wired to a store. Build once per runtime: `provide` rebuilds the machine. */
export function createSessionLogic(deps: SessionLogicDeps) {
  const { store, activity } = deps;
  return sessionMachine.provide({
    actions: {
      loadVariables: ({ self }, { sessionId }) => {
        store.list(`${sessionId}.`).then(
          (entries) => sendIfAlive(self, { type: 'store.loaded', entries }),
          (error: unknown) => sendIfAlive(self, { type: 'store.loadFailed', error: errorToJSON(error) }),
        );
      },
      commitWrites: ({ self }, { writes }) => {
        store.commit(writes).then(
          (revisions) => sendIfAlive(self, { type: 'store.committed', revisions }),
          async (error: unknown) => {
            if (!(error instanceof StoreConflictError))
              return sendIfAlive(self, { type: 'store.failed', error: errorToJSON(error) });
            try {
              sendIfAlive(self, { type: 'store.conflict', changes: await currentStateOf(store, writes) });
            } catch (readError) {
              sendIfAlive(self, { type: 'store.failed', error: errorToJSON(readError) });
            }
          },
        );
      },
      purgeVariables: ({ context }, { keys }) => {
        activity.forget(context.sessionId);
        if (keys.length === 0) return;
        const writes = keys.map(({ key, revision }) => ({
          operation: 'delete' as const,
          key,
          expectedRevision: revision,
        }));
        // A conflict means another node wrote meanwhile: that session is in use there, so its data stays.
        store.commit(writes).catch((error: unknown) => {
          if (!(error instanceof StoreConflictError)) deps.report(error, context.sessionId);
        });
      },
    },
    guards: {
      // Activity may have come between the sweep and this event: only a session still idle expires.
      idleExpired: ({ context }) => activity.idleFor(context.sessionId) >= context.ttlMs,
    },
  });
}

/** The provided session machine's type. */
export type SessionLogic = ReturnType<typeof createSessionLogic>;
