/**
 * Deleting a session for good on a NATS system, and expiring one, which is the same thing: its record, its
 * variables with their whole history, its module specs, and every node's processes of it.
 *
 * 1. The record goes first, with compare-and-set on the revision read (a purge of its key). That is the moment the
 *    session stops existing: requests for it get `session_not_found`, an `open` creates a new life of the id (a new
 *    `incarnation`), and an expiry whose record was stamped meanwhile (the session was used) changes nothing.
 * 2. Every node is told (session-control.ts) and ends its processes of it, a write in flight first; the deleting
 *    node waits for the nodes that answer.
 * 3. The variables and the module specs are purged (KV rollups: no history is kept), twice, a moment apart, so a
 *    write still under way on a node that answered late is caught too. Each pass lists the keys, checks that the id
 *    has not been opened again since, then purges each key at the revision it listed: a new life's writes are
 *    never taken, whichever way the race goes.
 * 4. What the purges leave (one marker per key) is removed from the variables and modules streams, message by
 *    message (see `removeMessagesUpTo`), only below the sequence each stream had reached before a last check that
 *    the id is still not opened again. On a replicated stream the markers stay for now: messages are removed there
 *    only once older than the stream's duplicate window (two minutes by default), which is the sweep's work.
 * 5. The record's marker stays, as a tombstone: the removal is not verified complete yet. A node that heard late
 *    (or was cut off) may still write with a process of the old life until it hears or notices (its next stamp,
 *    within `P`, finds the record gone). A scan that finds the tombstone at least `2P` old ({@link SessionRemoval.sweep},
 *    from session-expiry.ts) purges what is under the id once more, if it was not opened again, compacts, and only
 *    then, when nothing under the id was too recent to remove, removes the tombstone (else a later scan does). A
 *    removal cut short (a purge failed, the deleting node died) is finished the same way, or at once by a `delete`
 *    of the id, which does steps 3 and 4 again and still says `session_not_found`.
 *
 * Every step rides through an election of a bucket's stream leader, as the stores' own operations do: the record's
 * reads and compare-and-set purge (session-directory.ts), the listings and purges of keys (kv-store.ts), and here
 * the streams' last sequences and the removal of the markers, each read or sent again until `unavailableRetryMs`
 * (a stream purge below a sequence is the same whether it ran once or twice).
 *
 * A node that missed the control message (cut off at the time) can still write with a process of the old life;
 * it learns the session is gone when it next stamps the session's activity or loads it again (both read the
 * record). What it wrote meanwhile is removed by the sweep of the tombstone if it landed within its grace, and
 * otherwise when the id is next opened: an `open` that creates the record lists the keys under the id first and
 * purges those afterwards, at the revisions listed (see {@link SessionRemoval.open}).
 * @module
 */
import type { NatsConnection } from 'nats';
import { InternalError, SessionError, StoreConflictError } from '../errors.js';
import { purgeSessionKeys, type PurgeOutcome } from '../session/purge-session.js';
import type { Store } from '../store/store.js';
import { assertSessionId } from '../variables/names.js';
import { CLOCK_SKEW_MS, removeMessagesUpTo } from './bucket-stream.js';
import { kvRetryScope, kvStream, kvSubject } from './kv-bucket.js';
import { DEFAULT_UNAVAILABLE_RETRY_MS, failedAt, pause, retryRead, type RetryScope } from './retry-unavailable.js';
import type { SessionControl } from './session-control.js';
import type { SessionDirectory } from './session-directory.js';
import { incarnationOf, type ReadRecord } from './session-record.js';

/** What a removal works on. */
export interface SessionRemovalDeps {
  readonly connection: NatsConnection;
  readonly directory: SessionDirectory;
  /** The variables bucket, as the node's store. */
  readonly variables: Store<unknown>;
  readonly variablesBucket: string;
  /** The modules bucket, as a store (its keys and purges). */
  readonly specs: Store<unknown>;
  readonly modulesBucket: string;
  /** The node's session control, once it serves; a node that does not serve yet tells no other node. */
  readonly control: () => SessionControl | undefined;
  /** Announces the end to clients (the session event), once, by the node whose removal of the record won. */
  readonly announce?: (sessionId: string, incarnation: string, reason: 'deleted' | 'expired') => void;
  /** How long after the first purge the second one looks again. @default 100 */
  readonly recheckMs?: number;
  /** How long a step waits for a bucket while no leader of its stream answers (see retry-unavailable.ts). @default 15000 */
  readonly unavailableRetryMs?: number;
}

/** Deletions and expiries of sessions, and the opening of sessions that cleans up after them. */
export interface SessionRemoval {
  /**
   * Deletes the session (only its life `incarnation`, when given); `SessionError` (`session_not_found`) when there
   * is none, and nothing changes but the removal of what an earlier removal left, or of a value under the id that is
   * no session record.
   */
  delete(sessionId: string, incarnation?: string): Promise<void>;
  /** Expires the session whose record was read as `found`; `false` when it was used (stamped) or removed since. */
  expire(found: ReadRecord): Promise<boolean>;
  /**
   * Finishes a removal whose tombstone a scan found past its grace: purges what is left under the id (a write of a
   * node that heard of the removal late, what a removal cut short left) unless the id was opened again, then
   * removes the purge markers and the tombstone.
   */
  sweep(sessionId: string): Promise<void>;
  /**
   * Records the session as existing (idempotent). When this call creates the record, what an earlier life of the id
   * left under it (a deletion cut short, a write of a node that missed it) is purged, and it resolves to the
   * `incarnation` of the life it began (`undefined`: the session existed). Rejects with a `StoreConflictError` after
   * {@link OPEN_ATTEMPTS} opens in a row each lost to a life another node began and ended meanwhile.
   */
  open(sessionId: string): Promise<string | undefined>;
}

const ATTEMPTS = 5;
/** Opens tried while other nodes' lives of the id begin and end between the listing and the creation. */
const OPEN_ATTEMPTS = 3;

/** Builds the removal of a node. */
export function createSessionRemoval(deps: SessionRemovalDeps): SessionRemoval {
  const { directory, variables, specs } = deps;
  const recheckMs = deps.recheckMs ?? 100;
  const retryMs = deps.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
  const buckets = [deps.variablesBucket, deps.modulesBucket, directory.bucket];
  let scopes: Promise<RetryScope[]> | undefined;
  const gone = async (sessionId: string): Promise<boolean> => (await directory.read(sessionId)) === undefined;

  /** One pass over the variables and the module specs; `before`: what an earlier pass purged, passed by. */
  const pass = async (sessionId: string, before?: readonly PurgeOutcome[]): Promise<PurgeOutcome[]> => {
    const proceed = () => gone(sessionId);
    return Promise.all(
      [variables, specs].map((store, i) =>
        purgeSessionKeys(store, sessionId, { proceed, ...(before ? { purged: before[i]!.purged } : {}) }),
      ),
    );
  };

  /**
   * Removes the purge markers from the variables and modules streams and then, with `tombstone`, the record's marker
   * from the sessions stream: everything below where each stream had got before a last check that the id is still
   * not opened again (opened again, its writes may be below those sequences; its own `open` purged what it found).
   */
  const compact = async (sessionId: string, tombstone: boolean): Promise<void> => {
    scopes ??= Promise.all(buckets.map((bucket) => kvRetryScope(deps.connection, bucket, retryMs)));
    const scoped = await scopes;
    const manager = await deps.connection.jetstreamManager({ checkAPI: false });
    const until = performance.now() + retryMs;
    const streams = buckets.map((bucket, i) => ({
      bucket,
      scope: scoped[i]!,
      filter: i === 2 ? sessionId : `${sessionId}.>`,
    }));
    const step = <T>(stream: (typeof streams)[number], run: () => Promise<T>, fate?: 'unknown') =>
      retryRead(
        stream.scope,
        { operation: 'compact', key: stream.filter },
        until,
        run,
        (error) =>
          failedAt(`compacting session '${sessionId}' in bucket '${stream.bucket}'`, error, {
            sessionId,
            bucket: stream.bucket,
          }),
        fate,
      );
    const chosen = tombstone ? streams : streams.slice(0, 2);
    const infos = await Promise.all(
      chosen.map((stream) => step(stream, () => manager.streams.info(kvStream(stream.bucket)))),
    );
    if (!(await gone(sessionId))) return;
    const now = Date.now();
    // Message by message, not a stream purge by subject, and on a replicated stream only messages older than its
    // duplicate window (see removeMessagesUpTo). Whether every message under the id up to there is gone:
    const cleared = async (i: number): Promise<boolean> => {
      const { config, state } = infos[i]!;
      const replicated = config.num_replicas > 1;
      // Just written by this removal, the markers on a replicated stream are too recent: a sweep removes them.
      if (replicated && !tombstone) return false;
      const writtenBy = replicated ? now - config.duplicate_window / 1e6 - CLOCK_SKEW_MS : undefined;
      const stream = chosen[i]!;
      const { kept } = await step(
        stream,
        () =>
          removeMessagesUpTo(
            manager,
            kvStream(stream.bucket),
            kvSubject(stream.bucket, stream.filter),
            state.last_seq,
            writtenBy,
          ),
        'unknown',
      );
      return kept === 0;
    };
    const [variablesCleared, specsCleared] = await Promise.all([cleared(0), cleared(1)]);
    // The tombstone goes last, once nothing else is left: while it stays, a scan finishes this removal (see
    // session-expiry.ts), again at each scan until the markers are old enough to go.
    if (tombstone && variablesCleared && specsCleared) await cleared(2);
  };

  /** Purges the variables and the specs twice, a moment apart, and their markers; the tombstone stays. */
  const settle = async (sessionId: string): Promise<void> => {
    const first = await pass(sessionId);
    await pause(recheckMs);
    await pass(sessionId, first);
    await compact(sessionId, false);
  };

  const finish = async (sessionId: string, incarnation: string, reason: 'deleted' | 'expired'): Promise<void> => {
    await deps.control()?.end(sessionId, incarnation, reason);
    // After the nodes ended their processes: the `module.failed` of each execution those held is out before the
    // session's end, which a remote module handle's listeners stop at.
    deps.announce?.(sessionId, incarnation, reason);
    await settle(sessionId);
  };

  return {
    async delete(sessionId, incarnation) {
      assertSessionId(sessionId);
      // Retried while nodes stamp the record's activity: a deletion does not lose to use, an expiry does.
      for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
        const found = await directory.read(sessionId);
        const left = found ? undefined : await directory.leftover(sessionId);
        // A value that is no session record (put there by something else): no session, but it goes as a record
        // would, at the revision read (written since, it is read again), so that the id is clean.
        if (left?.kind === 'foreign' && !(await directory.removeAt(sessionId, left.revision))) continue;
        // Removed, but not finished (cut short, or not yet swept), or removed just now: this call does the work
        // again, and still says the session is not found (it was gone before this call).
        if (left) {
          await settle(sessionId);
          throw new SessionError('session_not_found', sessionId);
        }
        if (!found || (incarnation !== undefined && incarnationOf(found.record) !== incarnation))
          throw new SessionError('session_not_found', sessionId);
        if (await directory.removeAt(sessionId, found.revision))
          return finish(sessionId, incarnationOf(found.record), 'deleted');
      }
      throw new InternalError(`session '${sessionId}' kept changing under its deletion`, {
        details: { sessionId, attempts: ATTEMPTS },
      });
    },

    async expire(found) {
      const { sessionId } = found.record;
      if (!(await directory.removeAt(sessionId, found.revision))) return false;
      await finish(sessionId, incarnationOf(found.record), 'expired');
      return true;
    },

    async sweep(sessionId) {
      assertSessionId(sessionId);
      await pass(sessionId);
      await compact(sessionId, true);
    },

    async open(sessionId) {
      assertSessionId(sessionId);
      for (let attempt = 1; ; attempt += 1) {
        if (await directory.exists(sessionId)) return undefined;
        // Listed before the record exists, so everything listed is an earlier life's: the new one writes after it.
        const [leftVariables, leftSpecs] = await Promise.all([
          variables.keys(`${sessionId}.`),
          specs.keys(`${sessionId}.`),
        ]);
        let began: string | undefined;
        try {
          began = await directory.open(sessionId);
          if (began === undefined) return undefined;
        } catch (error) {
          // Another node's life began and ended after the listing (its keys are not in it, and its deletion stops
          // purging once this one exists): listed again, and opened again.
          if (error instanceof StoreConflictError && attempt < OPEN_ATTEMPTS) continue;
          throw error;
        }
        // At the listed revisions: a key the new life wrote since keeps its write.
        await Promise.all([
          purgeSessionKeys(variables, sessionId, { keys: leftVariables }),
          purgeSessionKeys(specs, sessionId, { keys: leftSpecs }),
        ]);
        return began;
      }
    },
  };
}
