/**
 * The remote client: `connect({ servers })` and use sessions served by any Tether node on that NATS, with the
 * same API as embedded sessions. Requests go to the `tether` service's queue group, so any node may answer;
 * the client sends the highest store revision it has seen, so reads always reflect its own writes.
 * @module
 */
import { EVERY_SESSION } from '../errors.js';
import { assertOptions, type SessionOptions } from '../session/options.js';
import { assertTimerMs } from './timer-ms.js';
import { assertSessionId } from '../variables/names.js';
import { assertFunctionOption, assertOptionKeys, optionKeys } from '../option-keys.js';
import {
  CONNECTION_SETTING_KEYS,
  assertConnectionSettings,
  connectNats,
  reportReconnects,
  type ReconnectPolicy,
} from './connection-options.js';
import { RemoteSession } from './remote-session.js';
import type { NatsTlsFiles } from './tls-files.js';
import { RemoteTransport } from './remote-transport.js';
import { ClientState } from './session-handle-scope.js';
import { listOptionsOf, pageFromWire, type ListSessionsOptions, type SessionPage } from './session-page.js';
import { createSubjects } from './subjects.js';
import { userReporter } from '../runtime/user-callback.js';

/** How long {@link TetherClient.close} waits for the cancels still on their way. */
const CANCEL_WAIT_MS = 2_000;

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** One or more NATS URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** The subject prefix the nodes use. @default 'tether' */
  readonly prefix?: string;
  /**
   * How long a request waits for its reply before `CallTimeoutError` (`NatsConnectionError` when the connection
   * dropped meanwhile), a whole number of milliseconds up to 2^31-1. Not an `execute`'s: that waits as long as its own
   * `timeoutMs` (see `RemoteExecuteOptions`). @default 5000, and longer for a request whose node says, after a second
   * without an answer, that it is still at it (a write riding through a leader election of its bucket): it then
   * waits as long as the node expects to take and 2 s more (about 39 s from sending with the defaults), pinging the
   * node meanwhile, so a node that dies ends the wait with `NodeLostError` (`node_lost`) within seconds. A timeout
   * given here is kept to the letter: the node's word only brings the pings.
   */
  readonly timeoutMs?: number;
  /** User and password authentication. */
  readonly user?: string;
  readonly pass?: string;
  /** Token authentication. */
  readonly token?: string;
  /**
   * The connection's name, as the server's monitoring shows it: not empty, one line without control characters, at
   * most 1024 bytes as JSON.
   */
  readonly name?: string;
  /**
   * Told about failures no call is waiting for (a watch listener that threw), and once each when the connection
   * drops and comes back (`NatsConnectionError`). @default `console.error`
   */
  readonly onError?: (error: unknown, where: string) => void;
  /**
   * How the connection retries when NATS goes away; calls whose reply it cost fail at their timeout with
   * `NatsConnectionError` (`disconnected`). @default for ever, every 2 s
   */
  readonly reconnect?: ReconnectPolicy;
  /**
   * How long each attempt to connect may take: past it, `connect` rejects with `NatsConnectionError`
   * (`unreachable`) for a server that takes the TCP connection and never answers, or an address nothing answers,
   * and a reconnect tries again.
   * @default 20000 (nats.js's)
   */
  readonly connectTimeoutMs?: number;
  /**
   * How often the client pings its server, to notice one gone silent with the connection left open: 2 to 3 intervals
   * later it drops the connection and reconnects. @default 120000 (nats.js's)
   */
  readonly pingIntervalMs?: number;
  /** TLS files: a private CA's certificate, a client certificate and its key ({@link NatsTlsFiles}). */
  readonly tls?: NatsTlsFiles;
}

/**
 * Options of {@link TetherClient.session}: those of `runtime.session(id, options)`, checked alike.
 * `create: false` opens nothing: requests on a session that was never opened get `SessionError`
 * (`session_not_found`).
 */
export type RemoteSessionOptions = SessionOptions;

/** A connection to the Tether nodes on one NATS system. */
export interface TetherClient {
  /**
   * The session `id`: opened (get-or-create) on a node unless `create: false`. An opened handle is bound to the life
   * of the session it opened (see `RemoteSession.delete`); one got with `create: false` to whichever is current. A
   * bad id or options bag is refused with the `ValidationError` `runtime.session` gives, before anything is sent;
   * once {@link close} was called, `SessionError` (`session_stopped`, `details.client: 'closed'`), as a stopped
   * runtime's `session` gives.
   */
  session(id: string, options?: RemoteSessionOptions): Promise<RemoteSession>;
  /**
   * A page of the sessions that exist on the nodes (`sessions.list` on the wire): their ids in code-point order,
   * strictly after `after`, at most `limit` (1 to 5000, default 1000); `next`, present only when more follow, is the
   * `after` of the next page. A session is listed exactly when a request on it with `create: false` finds it: opened
   * through any node, not deleted, not expired. Bad options are refused with the `ValidationError` a node gives,
   * naming the field, before anything is sent; once {@link close} was called, `SessionError` (`session_stopped`,
   * `details.client: 'closed'`), as {@link session} gives.
   * @example
   * let page = await client.listSessions();
   * console.log(page.ids);
   * while (page.next !== undefined) {
   *   page = await client.listSessions({ after: page.next });
   *   console.log(page.ids);
   * }
   */
  listSessions(options?: ListSessionsOptions): Promise<SessionPage>;
  /** The highest store revision a reply has reported to this client. */
  readonly revision: number;
  /**
   * Closes the connection; watches end with it, and module handles are no longer `alive`. The cancels this client
   * sent for executions it gave up on (a timeout, an abort, a lost node) are waited for first, up to 2 s, so that
   * they reach the nodes. From the call on, `session()` and every call on the handles this client gave out (module
   * handles' included, `delete()` too) reject at once, sending nothing, with `SessionError` (`session_stopped`,
   * `details.client: 'closed'`), as those of a stopped runtime do; calls already sent settle as they would have
   * (one still waiting when the connection closes: `NatsConnectionError`, `closed`).
   */
  close(): Promise<void>;
  /**
   * Resolves once the connection has closed: after {@link TetherClient.close}, or when it gave up reconnecting
   * (see `reconnect`), which a long-running watcher should treat as the end of its watches.
   */
  readonly closed: Promise<void>;
}

/** The keys {@link ConnectOptions} takes; any other is refused. */
const CONNECT_KEYS = optionKeys<ConnectOptions>({
  ...CONNECTION_SETTING_KEYS,
  prefix: true,
  timeoutMs: true,
  onError: true,
});

/** How long a request waits for its reply when `timeoutMs` is not given. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * Connects to NATS and returns a client for the Tether nodes there. The first connection is tried once per server, not
 * retried (`reconnect` governs a connection that was made).
 * @throws {ValidationError} before connecting, for options that are no object, name an option it does not take, or
 * give a value it refuses (`servers` missing or not a `nats://`/`tls://` URL, a `timeoutMs` that is not a whole
 * number from 1 to 2^31-1, a bad `reconnect`, `tls` or `onError`)
 * @throws {NatsConnectionError} (`nats_connection`, status `unreachable`) when no server could be connected to:
 * nothing listens, it never answers within `connectTimeoutMs`, TLS fails, or it refuses the credentials
 * (`Authorization Violation` in the message)
 * @example
 * const client = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const session = await client.session('chat-1');
 * await session.defineVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
 * await client.close();
 */
export async function connect(options: ConnectOptions): Promise<TetherClient> {
  assertOptionKeys(options, 'connect', CONNECT_KEYS);
  assertConnectionSettings('connect', options);
  assertFunctionOption('connect', 'onError', options.onError);
  const subjects = createSubjects(options.prefix);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Checked before connecting.
  assertTimerMs('timeoutMs', timeoutMs);
  const connection = await connectNats(options);
  const report = userReporter(options.onError);
  reportReconnects(connection, options, report);
  const closed = connection.closed().then(() => undefined);
  // With the default timeout, a request whose node says it is still at it (an election) waits as long as it says.
  const transport = new RemoteTransport(connection, subjects, timeoutMs, report, options.timeoutMs === undefined);
  const state = new ClientState();

  return {
    async session(id, sessionOptions) {
      // Checked here, before the id becomes a subject token: a dot would address another subject, a space
      // would break the connection's protocol line.
      assertSessionId(id);
      assertOptions(sessionOptions, 'session');
      if (state.closed) throw state.closedError(id);
      if (!(sessionOptions?.create ?? true)) return new RemoteSession(id, transport, undefined, state);
      // The life opened: the handle's requests carry it, so they never reach a later life of the id.
      const opened = (await transport.request(subjects.open(id), {})) as { incarnation?: unknown; created?: unknown };
      const incarnation = typeof opened?.incarnation === 'string' ? opened.incarnation : undefined;
      return new RemoteSession(id, transport, incarnation, state, opened?.created === true);
    },
    async listSessions(options) {
      const { after, limit } = listOptionsOf(options);
      // No session is named: every session of a closed client is stopped.
      if (state.closed) throw state.closedError(EVERY_SESSION);
      // Only what was given: the node applies its own default `limit`.
      const body = { ...(after === undefined ? {} : { after }), ...(options?.limit === undefined ? {} : { limit }) };
      return pageFromWire(await transport.request(subjects.sessionsList(), body));
    },
    get revision() {
      return transport.revision;
    },
    closed,
    async close() {
      state.close();
      // A cancel is sent as its execute fails, and a caller closes right after: without this wait the cancel died
      // with the connection and the execution ran on, its LLM call paid (a node answers a cancel within 0.5 s).
      const allOut = await transport.settled(CANCEL_WAIT_MS);
      if (!connection.isClosed()) await connection.close();
      // Those still waiting end with the connection: `onError` hears of each before `close` resolves, not after.
      if (!allOut) await transport.settled(CANCEL_WAIT_MS);
    },
  };
}
