/**
 * Which sessions exist, shared by every node. A session exists once it has been opened: `open` writes a
 * record under the session id in a second KV bucket (`tether_sessions`), created if absent, so two nodes
 * opening the same id at once both succeed and one record remains. Every other request checks the record
 * and gets `session_not_found` without it — variables alone cannot tell, since a new session has none.
 *
 * The record is also where a session's life is decided: its `incarnation` tells one life of an id from the next
 * (deleted and opened again), and removing it, with compare-and-set on the revision read, is the moment a session
 * is deleted.
 *
 * A node remembers the ids it has seen exist, so only the first request for a session on each node pays a KV
 * read; a deletion makes every node forget it ({@link SessionDirectory.forget}).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { InternalError, SessionError, StoreConflictError } from '../errors.js';
import type { Session } from '../session/session.js';
import { assertSessionId } from '../variables/names.js';
import { openSingleWriteBucket } from './kv-bucket-settings.js';
import { kvBucket } from './kv-bucket.js';

/** What the service needs from a node: a session by id, opened (`create: true`) or only if it exists. */
export interface SessionProvider {
  /** Rejects with `SessionError('session_not_found')` when `create` is false and the session was never opened. */
  session(id: string, options: { readonly create: boolean }): Promise<Session>;
  /** Deletes the session for good (`session_not_found` when it does not exist); a node without it cannot. */
  delete?(id: string): Promise<void>;
}

/** The record kept per session. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly createdAt: string;
  /** This life of the session id (a random id); records written before it existed go by `createdAt`. */
  readonly incarnation?: string;
}

/** A record as read, with the bucket revision of its write. */
export interface ReadRecord {
  readonly record: SessionRecord;
  readonly revision: number;
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
}

/** The shared list of opened sessions. */
export interface SessionDirectory {
  /** The bucket's name. */
  readonly bucket: string;
  /** Records the session as existing (idempotent); resolves `true` when this call created it. */
  open(sessionId: string): Promise<boolean>;
  /** Whether the session was ever opened (and not removed); remembered once seen. */
  exists(sessionId: string): Promise<boolean>;
  /** The record as the bucket holds it now (never from memory); `undefined` when there is none. */
  read(sessionId: string): Promise<ReadRecord | undefined>;
  /**
   * Removes the record (a purge: nothing of it is kept but the marker) if it is still at `revision`; resolves
   * `false` when it was written since (a removal and a new open).
   */
  removeAt(sessionId: string, revision: number): Promise<boolean>;
  /** Forgets that the session exists (it was deleted): the next request for it reads the bucket. */
  forget(sessionId: string): void;
  /**
   * Forgets a session: removes its record whatever its revision. Requests then get `session_not_found` once each
   * node's memory of it is gone; a session's deletion does more (see session-removal.ts).
   */
  remove(sessionId: string): Promise<void>;
  /**
   * A {@link SessionProvider} over the directory: checks or records existence, then asks `start` for the handle
   * (for a node: `(id) => runtime.session(id)`).
   */
  provider(start: (sessionId: string) => Promise<Session>): SessionProvider;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** The life of the session a record stands for. */
export const incarnationOf = (record: SessionRecord): string => record.incarnation ?? record.createdAt;

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
  const js = connection.jetstream();
  const { kv, replicas } = await openSingleWriteBucket(js, bucket, options.replicas, (error) =>
    boundary(error, 'open', bucket),
  );
  const raw = kvBucket(js, kv, bucket, replicas);
  const seen = new Set<string>();
  const parse = (data: Uint8Array): SessionRecord => JSON.parse(decoder.decode(data)) as SessionRecord;

  /** Publishes with compare-and-set; `false` on a conflict, the revision otherwise. */
  const write = async (sessionId: string, operation: 'purge', data: Uint8Array, expectLast: number) => {
    try {
      return await raw.publish({ key: sessionId, operation, data, expectLast });
    } catch (error) {
      if (error instanceof StoreConflictError) return false;
      throw boundary(error instanceof InternalError ? (error.cause ?? error) : error, operation, sessionId);
    }
  };

  const directory: SessionDirectory = {
    bucket,

    async open(sessionId) {
      assertSessionId(sessionId);
      if (seen.has(sessionId)) return false;
      const record: SessionRecord = { sessionId, createdAt: new Date().toISOString(), incarnation: randomUUID() };
      try {
        await kv.create(sessionId, encoder.encode(JSON.stringify(record)));
        seen.add(sessionId);
        return true;
      } catch (error) {
        // Another node (or an earlier open) got there first: the session exists, which is all `open` promises.
        if (await directory.exists(sessionId)) return false;
        throw boundary(error, 'create', sessionId);
      }
    },

    async exists(sessionId) {
      assertSessionId(sessionId);
      return seen.has(sessionId) || (await directory.read(sessionId)) !== undefined;
    },

    async read(sessionId) {
      assertSessionId(sessionId);
      let entry;
      try {
        entry = await kv.get(sessionId);
      } catch (error) {
        throw boundary(error, 'get', sessionId);
      }
      if (entry === null || entry.operation !== 'PUT') {
        seen.delete(sessionId);
        return undefined;
      }
      seen.add(sessionId);
      return { record: parse(entry.value), revision: entry.revision };
    },

    async removeAt(sessionId, revision) {
      assertSessionId(sessionId);
      seen.delete(sessionId);
      return (await write(sessionId, 'purge', EMPTY, revision)) !== false;
    },

    forget(sessionId) {
      seen.delete(sessionId);
    },

    async remove(sessionId) {
      assertSessionId(sessionId);
      seen.delete(sessionId);
      try {
        await kv.delete(sessionId);
      } catch (error) {
        throw boundary(error, 'delete', sessionId);
      }
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

function boundary(error: unknown, operation: string, key: string): InternalError {
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`session directory ${operation} of '${key}' failed: ${message}`, {
    cause: error,
    details: { operation, key },
  });
}
