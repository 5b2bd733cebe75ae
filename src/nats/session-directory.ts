/**
 * Which sessions exist, shared by every node. A session exists once it has been opened: `open` writes a
 * record under the session id in a second KV bucket (`tether_sessions`), created if absent, so two nodes
 * opening the same id at once both succeed and one record remains. Every other request checks the record
 * and gets `session_not_found` without it — variables alone cannot tell, since a new session has none.
 *
 * The record is also where a session's life is decided: its `incarnation` tells one life of an id from the next
 * (deleted and opened again), its `activeAt` is when a node last used it (stamped coarsely, see
 * session-expiry.ts), and removing it is the moment a session is deleted or expires, with compare-and-set on the
 * revision read, so a concurrent activity stamp cancels an expiry. The bucket keeps one write per key, so its
 * stream holds each record's last write in the order they were written: the records nobody stamped for longest
 * come first ({@link SessionDirectory.oldest}), with the markers of removals not yet finished (tombstones); that scan,
 * and the server's clock as the stream tells it, are read message by message in session-stream-reads.ts.
 *
 * Only nodes write the bucket, but anything with access to it can. A value there that is no session record (not JSON,
 * or without a creation time: see {@link decodeSessionRecord}) stands for no session, the same wherever it is read: a
 * request with `create: false` does not find the session, listings leave the id out, the expiry scan passes it by,
 * `open` writes a record over it (compare-and-set on its revision) and a deletion removes it. Each is told to
 * `onUnreadable`, naming the bucket and the key, once per key and revision.
 *
 * A node remembers the ids it has seen exist, so only the first request for a session on each node pays a KV
 * read; a deletion makes every node forget it ({@link SessionDirectory.forget}). Like the variables bucket, each
 * operation (reads, the records' compare-and-set writes and purges, the scan) rides through an election of the
 * stream's leader (kv-bucket.ts).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { BridgeError, InternalError, SessionError, StoreConflictError } from '../errors.js';
import type { Session } from '../session/session.js';
import { assertSessionId } from '../variables/names.js';
import { openSingleWriteBucket } from './kv-bucket-settings.js';
import { assertValueRoom, SESSION_RECORD_BYTES } from './bucket-value-room.js';
import { kvBucket } from './kv-bucket.js';
import { assertUnavailableRetryMs, DEFAULT_UNAVAILABLE_RETRY_MS, failedAt } from './retry-unavailable.js';
import { sessionListing, type SessionListing } from './session-listing.js';
import {
  decodeSessionRecord,
  incarnationOf,
  lastUseOf,
  type ReadRecord,
  type SessionRecord,
} from './session-record.js';
import { toldOnce } from './told-once.js';
import type { ServerTimeSample } from './server-clock.js';
import { SessionStreamReads, type Scanned } from './session-stream-reads.js';
import type { SessionProvider } from './session-provider.js';

/**
 * What a session's key holds when it holds no record: a removal's marker (a tombstone, see session-removal.ts), or a
 * value that is no session record (`foreign`, written by something else than a node) at its revision.
 */
export type Leftover = { readonly kind: 'tombstone' } | { readonly kind: 'foreign'; readonly revision: number };

/** Options of {@link createSessionDirectory}. */
export interface SessionDirectoryOptions {
  /** @default 'tether_sessions' */
  readonly bucket?: string;
  /**
   * Copies of the bucket on a clustered JetStream (1 to 5); when given, an existing bucket with other replicas is
   * refused with `BucketConfigMismatchError`.
   * @default 1 for a new bucket
   */
  readonly replicas?: number;
  /**
   * How long an operation waits for the bucket while no leader of its stream answers, retrying, before it fails
   * with `StoreUnavailableError` (see `unavailableRetryMs` of the KV store). @default 15000
   */
  readonly unavailableRetryMs?: number;
  /**
   * Told of a value in the bucket that is no session record (an `InternalError` naming the bucket and the key), once
   * per key and revision; it stands for no session.
   */
  readonly onUnreadable?: (error: InternalError) => void;
}

/** The shared list of opened sessions. */
export interface SessionDirectory {
  /** The bucket's name. */
  readonly bucket: string;
  /** The copies its bucket's stream keeps, as found when it was opened. */
  readonly replicas: number;
  /** The sessions that exist, a page at a time, read from the same bucket (session-listing.ts). */
  readonly listing: SessionListing;
  /**
   * Records the session as existing (idempotent); resolves to the `incarnation` of the life this call began when it
   * created the record, also over a value that is no session record (written over with compare-and-set on its
   * revision), `undefined` when the session existed already. Rejects with a
   * `StoreConflictError` when another node's record refused the creation and was deleted before this call could
   * read it: the id is free again, and that life may have left keys a caller listed before (see
   * {@link SessionRemoval.open}, which lists them again and opens again).
   */
  open(sessionId: string): Promise<string | undefined>;
  /** Whether the session was ever opened (and not removed); remembered once seen. */
  exists(sessionId: string): Promise<boolean>;
  /** The record as the bucket holds it now (never from memory); `undefined` when there is none (or no record). */
  read(sessionId: string): Promise<ReadRecord | undefined>;
  /**
   * Rewrites the record with `activeAt` (on the server's clock) if it is still at `known.revision`; resolves to the
   * record written, or to the one found when another node got there first with a later last use (its
   * {@link lastUseOf} by `lagMs`, the stamping period); `undefined` when the record is gone.
   */
  stamp(known: ReadRecord, activeAt: number, lagMs: number): Promise<ReadRecord | undefined>;
  /**
   * Writes the record again as it stands, compare-and-set: its `activeAt` set to its {@link lastUseOf} by `lagMs`, so
   * no node judges its last use earlier than before. A write of this node's own, which {@link serverTime} then reads
   * back as the server's clock, exact. Resolves as {@link stamp} does.
   */
  rewrite(known: ReadRecord, lagMs: number): Promise<ReadRecord | undefined>;
  /**
   * A bound of the server's clock (see server-clock.ts): when this node's last write was stored, known by the moment it
   * was acknowledged (exact to a round trip), the first time after that write; else when the bucket's last write was
   * stored, known by the moment this node read it; `undefined` while the bucket holds nothing.
   */
  serverTime(): Promise<ServerTimeSample | undefined>;
  /**
   * Whether this node wrote the bucket since {@link serverTime} last read: its next bound is then exact (unless the
   * key was written again since), at the cost of a read, no write.
   */
  ownWriteUnread(): boolean;
  /**
   * Removes the record (a purge: nothing of it is kept but the marker) if it is still at `revision`; resolves
   * `false` when it was written since (a stamp, or a removal and a new open).
   */
  removeAt(sessionId: string, revision: number): Promise<boolean>;
  /** The first record or tombstone (see session-removal.ts) written at or after `sequence`; `undefined` past the last. */
  oldest(sequence: number): Promise<Scanned | undefined>;
  /** What the session's key holds when it is no record; `undefined` for a record, or for nothing at all. */
  leftover(sessionId: string): Promise<Leftover | undefined>;
  /** Forgets that the session exists (it was deleted): the next request for it reads the bucket. */
  forget(sessionId: string): void;
  /**
   * A {@link SessionProvider} over the directory: checks or records existence, then asks `start` for the handle
   * (for a node: `(id) => runtime.session(id)`).
   */
  provider(start: (sessionId: string) => Promise<Session>): SessionProvider;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** Writes over a value that is no record tried by one `open`, while others write the key again meanwhile. */
const TAKEOVERS = 3;

/**
 * Opens (creating if needed) the directory bucket on `connection`.
 * @example
 * const directory = await createSessionDirectory(nc);
 * const provider = directory.provider((id) => runtime.session(id));
 */
export async function createSessionDirectory(
  connection: NatsConnection,
  options: SessionDirectoryOptions = {},
): Promise<SessionDirectory> {
  const bucket = options.bucket ?? 'tether_sessions';
  assertUnavailableRetryMs(options.unavailableRetryMs);
  const js = connection.jetstream();
  const retryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
  const failed = (error: unknown): InternalError => boundary(error, 'open', bucket);
  const { kv, replicas, maxValueSize } = await openSingleWriteBucket(
    { connection, bucket, retryMs, failed },
    options.replicas,
  );
  // A record it could not hold would fail each session's creation as an internal error.
  assertValueRoom(bucket, maxValueSize, SESSION_RECORD_BYTES);
  const raw = await kvBucket(connection, { js, kv, name: bucket, replicas, retryMs });
  const seen = new Set<string>();
  const firstTold = toldOnce();

  /** The record a value holds, or `undefined` for one that is none: told (once) and taken as no session. */
  const recordOf = (sessionId: string, data: Uint8Array, revision: number): SessionRecord | undefined => {
    const decoded = decodeSessionRecord(data, sessionId);
    if ('record' in decoded) return decoded.record;
    if (options.onUnreadable && firstTold(`${sessionId}@${revision}`)) {
      const shown = decoder.decode(data.subarray(0, 80));
      options.onUnreadable(
        new InternalError(
          `sessions bucket '${bucket}' key '${sessionId}' (revision ${revision}) holds no session record ` +
            `(${decoded.problem}: ${JSON.stringify(shown)}); taken as no session '${sessionId}'`,
          { details: { bucket, key: sessionId, revision, problem: decoded.problem } },
        ),
      );
    }
    return undefined;
  };

  const stream = new SessionStreamReads({ js, raw, bucket, recordOf, boundary });

  /** The key's last write: a record, a value that is none, a removal's marker, or nothing. */
  const lastOf = async (sessionId: string): Promise<ReadRecord | Leftover | undefined> => {
    let last;
    try {
      last = await raw.readLast(sessionId);
    } catch (error) {
      throw renamed(error, 'get', sessionId);
    }
    if (last === undefined) return undefined;
    if (!last.live) return { kind: 'tombstone' };
    const record = recordOf(sessionId, last.data, last.revision);
    return record
      ? { record, revision: last.revision, writtenAt: last.writtenAt }
      : { kind: 'foreign', revision: last.revision };
  };

  /**
   * Publishes with compare-and-set, through an election of the leader (a purge too: see kv-bucket.ts); `false` on a
   * conflict, the revision otherwise.
   */
  const write = async (
    sessionId: string,
    operation: 'put' | 'purge',
    data: Uint8Array,
    expectLast: number,
  ): Promise<number | false> => {
    try {
      return stream.wrote(await raw.publish({ key: sessionId, operation, data, expectLast }));
    } catch (error) {
      if (error instanceof StoreConflictError) return false;
      throw renamed(error, operation, sessionId);
    }
  };

  /**
   * Writes the record `known` with the `activeAt` that `activeAtOf` gives it (none: it is left as it is),
   * compare-and-set: the record written, or as last found; `undefined` when it is gone, or is another life of the id.
   */
  const writeActiveAt = async (
    known: ReadRecord,
    activeAtOf: (current: ReadRecord) => number | undefined,
  ): Promise<ReadRecord | undefined> => {
    let current: ReadRecord | undefined = known;
    // A few rounds: each lost one means another node stamped (or the record went) in between.
    for (let attempt = 0; attempt < 3 && current; attempt += 1) {
      const activeAt = activeAtOf(current);
      if (activeAt === undefined) return current;
      const record: SessionRecord = { ...current.record, activeAt: new Date(activeAt).toISOString() };
      const revision = await write(record.sessionId, 'put', encoder.encode(JSON.stringify(record)), current.revision);
      if (revision !== false) return { record, revision };
      const again: ReadRecord | undefined = await directory.read(record.sessionId);
      // Removed and opened again: another life, which this node's use was not of.
      if (again && incarnationOf(again.record) !== incarnationOf(current.record)) return undefined;
      current = again;
    }
    return current;
  };

  const directory: SessionDirectory = {
    bucket,
    replicas,
    listing: sessionListing(raw, (key, last) => recordOf(key, last.data, last.revision) !== undefined),

    async open(sessionId) {
      assertSessionId(sessionId);
      if (seen.has(sessionId)) return undefined;
      const at = new Date().toISOString();
      const incarnation = randomUUID();
      const record: SessionRecord = { sessionId, createdAt: at, incarnation, activeAt: at };
      const data = encoder.encode(JSON.stringify(record));
      let refused: StoreConflictError;
      try {
        // Create-if-absent, also over a removed record (its delete marker), through an election of the leader.
        stream.wrote(await raw.writeIfAbsent(sessionId, 'put', data));
        seen.add(sessionId);
        return incarnation;
      } catch (error) {
        if (!(error instanceof StoreConflictError)) throw renamed(error, 'create', sessionId);
        refused = error;
      }
      for (let attempt = 0; attempt < TAKEOVERS; attempt += 1) {
        const found = await lastOf(sessionId);
        // Another node (or an earlier open) got there first: the session exists, which is all `open` promises.
        if (found && 'record' in found) {
          seen.add(sessionId);
          return undefined;
        }
        // Deleted between the refusal and that read: a race, for the caller to open again (see the interface).
        if (found?.kind !== 'foreign') break;
        // No session: its key is this id's to take, at the revision read (a node's write since wins instead).
        if ((await write(sessionId, 'put', data, found.revision)) !== false) {
          seen.add(sessionId);
          return incarnation;
        }
      }
      throw refused;
    },

    async exists(sessionId) {
      assertSessionId(sessionId);
      return seen.has(sessionId) || (await directory.read(sessionId)) !== undefined;
    },

    async read(sessionId) {
      assertSessionId(sessionId);
      const found = await lastOf(sessionId);
      if (!found || !('record' in found)) {
        seen.delete(sessionId);
        return undefined;
      }
      seen.add(sessionId);
      return found;
    },

    stamp(known, activeAt, lagMs) {
      // The record's last use as every node judges it, not its `activeAt` alone: one written ahead of the server's
      // clock must not hold off the stamps of later uses.
      return writeActiveAt(known, (current) => (lastUseOf(current, lagMs) >= activeAt ? undefined : activeAt));
    },

    rewrite(known, lagMs) {
      return writeActiveAt(known, (current) => lastUseOf(current, lagMs));
    },

    async removeAt(sessionId, revision) {
      assertSessionId(sessionId);
      seen.delete(sessionId);
      return (await write(sessionId, 'purge', EMPTY, revision)) !== false;
    },

    oldest: (sequence) => stream.oldest(sequence),

    serverTime: () => stream.serverTime(),

    ownWriteUnread: () => stream.ownWriteUnread(),

    async leftover(sessionId) {
      assertSessionId(sessionId);
      const found = await lastOf(sessionId);
      return found && !('record' in found) ? found : undefined;
    },

    forget(sessionId) {
      seen.delete(sessionId);
    },

    provider(start) {
      return {
        async session(id, { create }) {
          assertSessionId(id);
          if (create) await directory.open(id);
          else if (!(await directory.exists(id))) throw new SessionError('session_not_found', id);
          return start(id);
        },
      };
    },
  };
  return directory;
}

/** A failure of the raw bucket: an `InternalError` named again around its cause, a `StoreUnavailableError` as it is. */
function renamed(error: unknown, operation: string, key: string): Error {
  if (error instanceof InternalError) return boundary(error.cause ?? error, operation, key);
  return error instanceof BridgeError ? error : boundary(error, operation, key);
}

function boundary(error: unknown, operation: string, key: string): InternalError {
  return failedAt(`session directory ${operation} of '${key}'`, error, { operation, key });
}
