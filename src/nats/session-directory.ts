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
 * come first ({@link SessionDirectory.oldest}), with the markers of removals not yet finished (tombstones).
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
import { apiErrorCode, kvBucket, kvStream, kvSubject } from './kv-bucket.js';
import { assertUnavailableRetryMs, DEFAULT_UNAVAILABLE_RETRY_MS, failedAt } from './retry-unavailable.js';
import { sessionListing, type SessionListing } from './session-listing.js';
import { activeAtOf, incarnationOf, type ReadRecord, type SessionRecord } from './session-record.js';

/** What the service needs from a node: a session by id, opened (`create: true`) or only if it exists. */
export interface SessionProvider {
  /** Rejects with `SessionError('session_not_found')` when `create` is false and the session was never opened. */
  session(id: string, options: { readonly create: boolean }): Promise<Session>;
  /**
   * Deletes the session for good (only its life `incarnation`, when given; `session_not_found` when it does not
   * exist); a node without it cannot.
   */
  delete?(id: string, incarnation?: string): Promise<void>;
  /**
   * Why the life `incarnation` of the session is over, when this node knows (it heard the session end): the error a
   * request bound to that life gets (`session_expired`, or `session_not_found` for a deletion).
   */
  ended?(id: string, incarnation: string): SessionError | undefined;
}

/** What a scan finds: a record (`found`), or a removal's marker (a tombstone); when the bucket took it (ms). */
export interface Scanned {
  readonly sequence: number;
  readonly sessionId: string;
  readonly found?: ReadRecord;
  readonly writtenAt: number;
}

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
   * Records the session as existing (idempotent); resolves `true` when this call created it. Rejects with a
   * `StoreConflictError` when another node's record refused the creation and was deleted before this call could
   * read it: the id is free again, and that life may have left keys a caller listed before (see
   * {@link SessionRemoval.open}, which lists them again and opens again).
   */
  open(sessionId: string): Promise<boolean>;
  /** Whether the session was ever opened (and not removed); remembered once seen. */
  exists(sessionId: string): Promise<boolean>;
  /** The record as the bucket holds it now (never from memory); `undefined` when there is none. */
  read(sessionId: string): Promise<ReadRecord | undefined>;
  /**
   * Rewrites the record with `activeAt` if it is still at `known.revision`; resolves to the record written, or to
   * the one found when another node got there first with a later `activeAt`; `undefined` when the record is gone.
   */
  stamp(known: ReadRecord, activeAt: number): Promise<ReadRecord | undefined>;
  /**
   * Removes the record (a purge: nothing of it is kept but the marker) if it is still at `revision`; resolves
   * `false` when it was written since (a stamp, or a removal and a new open).
   */
  removeAt(sessionId: string, revision: number): Promise<boolean>;
  /** The first record or tombstone (see session-removal.ts) written at or after `sequence`; `undefined` past the last. */
  oldest(sequence: number): Promise<Scanned | undefined>;
  /** Whether the session's key holds a removal marker (a tombstone) rather than a record or nothing. */
  tombstoned(sessionId: string): Promise<boolean>;
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

/** JetStream's "no message found" API error code (a message GET past the last one). */
const NO_MESSAGE_FOUND = 10037;

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
  const parse = (data: Uint8Array): SessionRecord => JSON.parse(decoder.decode(data)) as SessionRecord;

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
      return await raw.publish({ key: sessionId, operation, data, expectLast });
    } catch (error) {
      if (error instanceof StoreConflictError) return false;
      throw renamed(error, operation, sessionId);
    }
  };

  const directory: SessionDirectory = {
    bucket,
    replicas,
    listing: sessionListing(raw),

    async open(sessionId) {
      assertSessionId(sessionId);
      if (seen.has(sessionId)) return false;
      const at = new Date().toISOString();
      const record: SessionRecord = { sessionId, createdAt: at, incarnation: randomUUID(), activeAt: at };
      try {
        // Create-if-absent, also over a removed record (its delete marker), through an election of the leader.
        await raw.writeIfAbsent(sessionId, 'put', encoder.encode(JSON.stringify(record)));
        seen.add(sessionId);
        return true;
      } catch (error) {
        // Another node (or an earlier open) got there first: the session exists, which is all `open` promises.
        if (!(error instanceof StoreConflictError)) throw renamed(error, 'create', sessionId);
        if (await directory.exists(sessionId)) return false;
        // Deleted between the refusal and that read: a race, for the caller to open again (see the interface).
        throw error;
      }
    },

    async exists(sessionId) {
      assertSessionId(sessionId);
      return seen.has(sessionId) || (await directory.read(sessionId)) !== undefined;
    },

    async read(sessionId) {
      assertSessionId(sessionId);
      let last;
      try {
        last = await raw.readLast(sessionId);
      } catch (error) {
        throw renamed(error, 'get', sessionId);
      }
      if (!last?.live) {
        seen.delete(sessionId);
        return undefined;
      }
      seen.add(sessionId);
      return { record: parse(last.data), revision: last.revision };
    },

    async stamp(known, activeAt) {
      let current: ReadRecord | undefined = known;
      // A few rounds: each lost one means another node stamped (or the record went) in between.
      for (let attempt = 0; attempt < 3 && current; attempt += 1) {
        if (activeAtOf(current.record) >= activeAt) return current;
        const record: SessionRecord = { ...current.record, activeAt: new Date(activeAt).toISOString() };
        const revision = await write(record.sessionId, 'put', encoder.encode(JSON.stringify(record)), current.revision);
        if (revision !== false) return { record, revision };
        const again: ReadRecord | undefined = await directory.read(record.sessionId);
        // Removed and opened again: another life, which this node's use was not of.
        if (again && incarnationOf(again.record) !== incarnationOf(current.record)) return undefined;
        current = again;
      }
      return current;
    },

    async removeAt(sessionId, revision) {
      assertSessionId(sessionId);
      seen.delete(sessionId);
      return (await write(sessionId, 'purge', EMPTY, revision)) !== false;
    },

    async oldest(sequence) {
      // Message gets by subject, no consumer (nats-server#3481), as a key's history is read (see kv-history.ts).
      const manager = await js.jetstreamManager(false);
      const subjects = kvSubject(bucket, '');
      const request = { seq: sequence, next_by_subj: `${subjects}>` };
      for (;;) {
        // Each get is read again through an election; past the last message there is nothing to wait for.
        const message = await raw.read(
          'scan',
          bucket,
          async () => {
            try {
              return await manager.streams.getMessage(kvStream(bucket), request);
            } catch (error) {
              if (apiErrorCode(error) === NO_MESSAGE_FOUND) return undefined;
              throw error;
            }
          },
          (error) => boundary(error, 'scan', bucket),
        );
        if (!message) return undefined;
        const operation = message.header.get('KV-Operation');
        // The key names the session, whatever the record says.
        const scanned = { sequence: message.seq, sessionId: message.subject.slice(subjects.length) };
        const writtenAt = message.time.getTime();
        if (operation === 'PURGE' || operation === 'DEL') return { ...scanned, writtenAt };
        if (!operation || operation === 'PUT') {
          try {
            const record = { ...parse(message.data), sessionId: scanned.sessionId };
            return { ...scanned, writtenAt, found: { record, revision: message.seq } };
          } catch {
            // Not a record of ours (the bucket is shared, anything with access can write there): pass it by.
          }
        }
        request.seq = message.seq + 1;
      }
    },

    async tombstoned(sessionId) {
      assertSessionId(sessionId);
      const last = await raw
        .readLast(sessionId)
        .catch((error: unknown) => Promise.reject(renamed(error, 'get', sessionId)));
      return last !== undefined && !last.live;
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
