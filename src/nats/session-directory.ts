/**
 * Which sessions exist, shared by every node. A session exists once it has been opened: `open` writes a
 * record under the session id in a second KV bucket (`tether_sessions`), created if absent, so two nodes
 * opening the same id at once both succeed and one record remains. Every other request checks the record
 * and gets `session_not_found` without it — variables alone cannot tell, since a new session has none.
 *
 * A node remembers the ids it has seen exist, so only the first request for a session on each node pays a KV
 * read. Records are never removed by expiry (the runtime does not tell this layer); `remove` exists for that.
 * Like the variables bucket, each operation rides through an election of the stream's leader (kv-bucket.ts).
 * @module
 */
import type { NatsConnection } from 'nats';
import { BridgeError, InternalError, SessionError, StoreConflictError } from '../errors.js';
import type { Session } from '../session/session.js';
import { assertSessionId } from '../variables/names.js';
import { kvBucket } from './kv-bucket.js';
import { openSingleWriteBucket } from './kv-bucket-settings.js';
import { assertUnavailableRetryMs, DEFAULT_UNAVAILABLE_RETRY_MS } from './retry-unavailable.js';

/** What the service needs from a node: a session by id, opened (`create: true`) or only if it exists. */
export interface SessionProvider {
  /** Rejects with `SessionError('session_not_found')` when `create` is false and the session was never opened. */
  session(id: string, options: { readonly create: boolean }): Promise<Session>;
}

/** The record kept per session. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly createdAt: string;
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
  /** Records the session as existing (idempotent); resolves `true` when this call created it. */
  open(sessionId: string): Promise<boolean>;
  /** Whether the session was ever opened (and not removed). */
  exists(sessionId: string): Promise<boolean>;
  /** Forgets a session; later requests get `session_not_found` once each node's memory of it is gone. */
  remove(sessionId: string): Promise<void>;
  /**
   * A {@link SessionProvider} over the directory: checks or records existence, then asks `start` for the handle
   * (for a node: `(id) => runtime.session(id)`).
   */
  provider(start: (sessionId: string) => Promise<Session>): SessionProvider;
}

const encoder = new TextEncoder();

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
  const { kv, replicas } = await openSingleWriteBucket(js, bucket, options.replicas, (error) =>
    boundary(error, 'open', bucket),
  );
  const retryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
  const raw = await kvBucket(connection, { js, kv, name: bucket, replicas, retryMs });
  const seen = new Set<string>();

  const directory: SessionDirectory = {
    async open(sessionId) {
      assertSessionId(sessionId);
      if (seen.has(sessionId)) return false;
      const record: SessionRecord = { sessionId, createdAt: new Date().toISOString() };
      try {
        // Create-if-absent, also over a removed record (its delete marker), through an election of the leader.
        await raw.writeIfAbsent(sessionId, 'put', encoder.encode(JSON.stringify(record)));
        seen.add(sessionId);
        return true;
      } catch (error) {
        // Another node (or an earlier open) got there first: the session exists, which is all `open` promises.
        if (!(error instanceof StoreConflictError)) throw renamed(error, 'create', sessionId);
        if (await directory.exists(sessionId)) return false;
        throw boundary(error, 'create', sessionId);
      }
    },

    async exists(sessionId) {
      assertSessionId(sessionId);
      if (seen.has(sessionId)) return true;
      let last;
      try {
        last = await raw.readLast(sessionId);
      } catch (error) {
        throw renamed(error, 'get', sessionId);
      }
      const live = last?.live === true;
      if (live) seen.add(sessionId);
      return live;
    },

    async remove(sessionId) {
      assertSessionId(sessionId);
      seen.delete(sessionId);
      try {
        await raw.publish({ key: sessionId, operation: 'delete', data: new Uint8Array(0) });
      } catch (error) {
        throw renamed(error, 'delete', sessionId);
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

/** A failure of the raw bucket: an `InternalError` named again around its cause, a `StoreUnavailableError` as it is. */
function renamed(error: unknown, operation: string, key: string): Error {
  if (error instanceof InternalError) return boundary(error.cause ?? error, operation, key);
  return error instanceof BridgeError ? error : boundary(error, operation, key);
}

function boundary(error: unknown, operation: string, key: string): InternalError {
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`session directory ${operation} of '${key}' failed: ${message}`, {
    cause: error,
    details: { operation, key },
  });
}
