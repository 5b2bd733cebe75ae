/**
 * The session machine with its effects supplied: loading from, committing to and purging the store, and the
 * idle check against the runtime's clock of session activity (which counts reads).
 * @module
 */
import { sessionMachine, type SessionMachineEvent } from '../../machines/session.machine.js';
import { highestRevision } from '../../machines/session.writes.js';
import { StoreConflictError, errorToJSON } from '../errors.js';
import type { Store, StoreChange } from '../store/store.js';
import type { IdleClock } from '../runtime/idle-clock.js';
import { absentKey } from './apply-store-change.js';
import { frozenChanges } from './frozen-writes.js';
import { OwedPurges } from './owed-purges.js';
import { purgeSessionKeys } from './purge-session.js';
import { jitteredBackoff } from './update-with-retry.js';
import { hasMoved } from './write-contention.js';
import type { VariableRecord } from '../variables/types.js';

/** What the session machine's effects need. */
export interface SessionLogicDeps {
  readonly store: Store<VariableRecord>;
  /** Last activity by session id; reads count, and they never pass through the process. */
  readonly activity: IdleClock<string>;
  /** Told about store failures that no caller waits for (a purge after expiry). */
  readonly report: (error: unknown, sessionId: string) => void;
  /**
   * Whether an expired process purges its session's variables itself (an embedded runtime). On a NATS node the
   * node that expires a session removes them, once every node's process of it has ended. @default true
   */
  readonly purgeOnExpiry?: boolean;
  /**
   * Resolves once this node's router has handed its session processes every change up to `revision` (`true`), or
   * has given up waiting (`false`); never rejects. A NATS node's router holds the writes of a batch until the batch
   * is whole (commit-holdback.ts), and a write that lost a race waits for it before folding in what it re-read. An
   * embedded runtime's (routed-revisions.ts): a store whose watch lags (another runtime's writes not heard yet) would
   * otherwise have the re-read skip, for the session's watchers, the versions the router had still to bring.
   * Left out, nothing is waited for.
   */
  readonly routed?: (revision: number) => Promise<boolean>;
  /**
   * Whether a load, too, waits for `routed` to pass what it listed. Not on an embedded runtime: its router hears only
   * what was written after it started, so a load of older keys would wait for nothing but the wait's bound, and
   * a store applies a batch at once there. @default true
   */
  readonly loadWaitsForRouter?: boolean;
  /**
   * The purges this runtime owes (an expiry's that failed here, a deletion's that failed): a process of such an id
   * purges first, and fails to load while the store still refuses. Its own when left out.
   */
  readonly owed?: OwedPurges;
}

/** A confirmed check's answer: it committed nothing. */
const NO_REVISIONS: readonly number[] = Object.freeze([]);

interface Sender {
  send(event: SessionMachineEvent): void;
  getSnapshot(): { status: string };
}

/**
 * Sends only while the process is alive: a store answer can outlive a stopped session. The event frozen, as its lists
 * are: an inspector is shown it before the process applies it, and one that put a masked copy of its list on it made
 * the process hold the mask (frozen-writes.ts).
 */
function sendIfAlive(self: Sender, event: SessionMachineEvent): void {
  if (self.getSnapshot().status === 'active') self.send(Object.freeze(event));
}

/** After a conflict, the store's current state of each key, as changes to fold in. */
async function currentStateOf(
  store: Store<VariableRecord>,
  keys: readonly string[],
): Promise<StoreChange<VariableRecord>[]> {
  return Promise.all(
    keys.map(async (key): Promise<StoreChange<VariableRecord>> => {
      if (store.lastChange) {
        // One read, whether the key holds a value or a delete marker (whose revision drops a stale record), or
        // nothing at all (a stream purge from outside; see apply-store-change.ts).
        return (await store.lastChange(key)) ?? absentKey(key);
      }
      const entry = await store.get(key);
      if (entry) return { operation: 'put', ...entry };
      // Deleted (or never written): the delete marker's revision makes the session drop its stale record.
      const last = (await store.history(key)).at(-1);
      if (last?.operation === 'delete') return last;
      return last ? { operation: 'delete', key, revision: last.revision } : absentKey(key);
    }),
  );
}

/** The session machine wired to a store. Build once per runtime: `provide` rebuilds the machine. */
export function createSessionLogic(deps: SessionLogicDeps) {
  const { store, activity, routed } = deps;
  const owed = deps.owed ?? new OwedPurges();
  // The purges of expired sessions still under way, by session id: a process of the id started meanwhile (the id
  // opened again) loads once its purge is through, or it would load the expired life's variables as its own.
  const purging = new Map<string, Promise<void>>();

  /**
   * Tells the session that its write lost the race on `key`, with the current state of each of `keys` (read now
   * unless `read` has it), once this node's router is past it. A write that lost again (`attempt` 2 and on) waits
   * first, with jitter, as `updateVariable` does: a writer on another node that keeps writing learns its next
   * revision from its own commit's answer, a round trip before this one can read it, and without the pause it won
   * every race until this write gave up (two nodes each setting one variable in a loop).
   */
  async function answerConflict(
    self: Sender,
    keys: readonly string[],
    key: string,
    read?: StoreChange<VariableRecord>[],
    attempt = 1,
  ): Promise<void> {
    try {
      if (attempt > 1) await jitteredBackoff(attempt);
      const changes = read ?? (await currentStateOf(store, keys));
      // Read from the bucket, not through the router: a write of another node's batch whose other writes have not
      // landed, or one about to be undone, would show here in part. Once the router is past what was read, it has
      // handed the session all of it as its hold allows, and the records read are no news. A wait that gives up (a
      // router lagging past the hold's bound) folds them in as they are: the retry must plan against the key as it
      // is now, or it loses the race again.
      if (routed) await routed(highestRevision(0, changes));
      sendIfAlive(self, { type: 'store.conflict', changes: frozenChanges(changes), key });
    } catch (readError) {
      sendIfAlive(self, { type: 'store.failed', error: errorToJSON(readError) });
    }
  }

  return sessionMachine.provide({
    actions: {
      loadVariables: ({ self }, { sessionId }) => {
        const purge = purging.get(sessionId);
        const listed = async () => {
          const entries = await store.list(`${sessionId}.`);
          // Read from the bucket, not through the router, as a lost race's read is (see answerConflict): a write of
          // another node's batch that is about to be undone would load as the variable's value, and its undo reach the
          // session as a change back to an older version. Once the router is past what was read, it has folded in
          // (silently, while loading) all of it as its hold allows, undos included, and an entry it overtook is no news.
          if (routed && deps.loadWaitsForRouter !== false) await routed(highestRevision(0, entries));
          return entries;
        };
        // A purge that failed (reported then) is done now, or the load fails: the ended life's variables are not this
        // one's. Asked once an expiry's purge under way has settled, which may have failed meanwhile.
        const purged = () => (owed.owes(sessionId) ? owed.settle(store, sessionId).then(listed) : listed());
        (purge ? purge.then(purged) : purged()).then(
          (entries) => sendIfAlive(self, { type: 'store.loaded', entries: frozenChanges(entries) }),
          (error: unknown) => sendIfAlive(self, { type: 'store.loadFailed', error: errorToJSON(error) }),
        );
      },
      commitWrites: ({ self }, { writes, attempt }) => {
        store.commit(writes).then(
          (revisions) => sendIfAlive(self, { type: 'store.committed', revisions: Object.freeze(revisions) }),
          (error: unknown) => {
            if (!(error instanceof StoreConflictError))
              return sendIfAlive(self, { type: 'store.failed', error: errorToJSON(error) });
            return answerConflict(
              self,
              writes.map((write) => write.key),
              error.key,
              undefined,
              attempt,
            );
          },
        );
      },
      confirmUnchanged: ({ self }, { checks }) => {
        const keys = checks.map((check) => check.key);
        currentStateOf(store, keys).then(
          (changes) => {
            const moved = checks.find((check, i) => hasMoved(check, changes[i]));
            if (!moved) return sendIfAlive(self, { type: 'store.committed', revisions: NO_REVISIONS });
            return answerConflict(self, keys, moved.key, changes);
          },
          (error: unknown) => sendIfAlive(self, { type: 'store.failed', error: errorToJSON(error) }),
        );
      },
      purgeVariables: ({ context }, { keys }) => {
        activity.forget(context.sessionId);
        if (deps.purgeOnExpiry === false) return;
        // Purged, history and deleted variables included, so an expired session leaves nothing in the store. Each
        // live variable only at the revision the process last saw: a key another runtime sharing the store wrote
        // meanwhile is in use there, and stays.
        const { sessionId } = context;
        const expected = new Map(keys.map(({ key, revision }) => [key, revision]));
        // The expired life's last revision, for a purge owed: a key written after it is a new life's, the id opened
        // again by another runtime sharing the store, and stays (see OwedPurges). What the process saw, or listed.
        let through = [...context.revisions.values()].reduce((last, revision) => Math.max(last, revision), 0);
        const purge: Promise<void> = store
          .keys(`${sessionId}.`)
          .then((listed) => {
            through = listed.reduce((last, { revision }) => Math.max(last, revision), through);
            return purgeSessionKeys(store, sessionId, { keys: listed, expected });
          })
          .then(
            () => undefined,
            (error: unknown) => {
              owed.owe(sessionId, { expected, through });
              deps.report(error, sessionId);
            },
          )
          .finally(() => {
            if (purging.get(sessionId) === purge) purging.delete(sessionId);
          });
        purging.set(sessionId, purge);
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
