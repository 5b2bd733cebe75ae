/**
 * How every Tether connection to NATS is made (node, remote client, events subscriber): one set of options,
 * one reconnect policy, one way of telling that a connection dropped and came back.
 * @module
 */
import { ErrorCode, Events, type ConnectionOptions, type NatsConnection, type NatsError } from 'nats';
import { NatsConnectionError, ValidationError } from '../errors.js';
import { assertOptionKeys, optionKeys } from '../option-keys.js';
import { kindOf, show } from '../variables/failure.js';
import { assertTimerMs } from './timer-ms.js';
import { connectClosingGivenUp } from './closing-transport.js';
import { assertTlsFiles, type NatsTlsFiles } from './tls-files.js';
import { MAX_NAME_BYTES, connectionNameFault } from './connection-name.js';
import { tlsRefusalNote, tlsRefusalOf, type TlsRefusal } from './tls-refusal.js';
import {
  isServerUrl,
  resolveCredentials,
  shownUrl,
  withoutUserInfo,
  type GivenCredentials,
} from './url-credentials.js';
import { messageOf } from '../printable.js';

/** How a connection that was up retries after losing its server. */
export interface ReconnectPolicy {
  /**
   * Attempts per server before the connection gives up and closes; `-1` retries for ever. nats.js alone gives
   * up after 10 (some 20 s), which left nodes and long-running commands dead after a short NATS restart.
   * @default -1
   */
  readonly maxAttempts?: number;
  /** The wait between two attempts on one server. @default 2000 */
  readonly waitMs?: number;
}

/** The keys a {@link ReconnectPolicy} takes; any other is refused. */
const RECONNECT_KEYS = optionKeys<ReconnectPolicy>({ maxAttempts: true, waitMs: true });

/**
 * Throws `ValidationError` naming the `reconnect` option of `owner` (in an unknown key's message) unless it is a
 * policy nats.js can follow: only `maxAttempts` (-1 for ever, or a whole number ≥ 0) and `waitMs` (1 to 2^31-1 ms).
 * Checked before connecting: a misspelled key left a node that gives up for good after the default, and a string
 * was handed to nats.js as is.
 */
export function assertReconnectPolicy(owner: string, reconnect: unknown): void {
  if (reconnect === undefined) return;
  assertOptionKeys(reconnect, `${owner} reconnect`, RECONNECT_KEYS);
  const { maxAttempts, waitMs } = reconnect as ReconnectPolicy;
  if (maxAttempts !== undefined && !(Number.isSafeInteger(maxAttempts) && maxAttempts >= -1))
    throw new ValidationError(
      `reconnect.maxAttempts must be -1 (for ever) or a whole number from 0, got ${show(maxAttempts)}`,
      { details: { field: 'reconnect.maxAttempts' } },
    );
  if (waitMs !== undefined) assertTimerMs('reconnect.waitMs', waitMs);
}

/** The settings nats.js sends the server as text in its CONNECT line. */
const TEXT_SETTINGS = ['user', 'pass', 'token', 'name'] as const;

/**
 * Throws `ValidationError` unless the settings' reconnect policy is one nats.js can follow (see
 * {@link assertReconnectPolicy}), the name, when given, is one a connection can have (see {@link connectionNameFault}),
 * `connectTimeoutMs` and `pingIntervalMs`, when given, are a timer's whole numbers
 * of milliseconds, the TLS files can be used (see {@link assertTlsFiles}), and a password, given or in a server URL,
 * goes with a user. Checked before connecting by everything that connects.
 */
export function assertConnectionSettings(
  owner: string,
  settings: {
    readonly servers?: unknown;
    readonly reconnect?: unknown;
    readonly connectTimeoutMs?: unknown;
    readonly pingIntervalMs?: unknown;
    readonly tls?: unknown;
  } & {
    readonly [K in (typeof TEXT_SETTINGS)[number]]?: unknown;
  },
): void {
  assertReconnectPolicy(owner, settings.reconnect);
  // The server refuses these, when they are no strings or the name is too long for its protocol line, by closing the
  // connection: the caller waited for the connect to time out, then heard that the server could not be reached. What
  // else a name must be: see connectionNameFault.
  for (const field of TEXT_SETTINGS) {
    const value = settings[field];
    if (value !== undefined && typeof value !== 'string')
      throw new ValidationError(`${owner} option '${field}' must be a string, got ${kindOf(value)}`, {
        details: { field, constraint: 'type' },
      });
  }
  const nameFault = typeof settings.name === 'string' ? connectionNameFault(settings.name) : undefined;
  if (nameFault)
    throw new ValidationError(`${owner} option 'name' ${nameFault.reason}`, {
      details: { field: 'name', constraint: nameFault.constraint, ...nameFault.details },
    });
  if (settings.connectTimeoutMs !== undefined) assertTimerMs('connectTimeoutMs', settings.connectTimeoutMs);
  if (settings.pingIntervalMs !== undefined) assertTimerMs('pingIntervalMs', settings.pingIntervalMs);
  assertTlsFiles(owner, settings.tls);
  const servers = typeof settings.servers === 'string' ? [settings.servers] : settings.servers;
  // nats.js takes none, or an empty one, for 127.0.0.1:4222: a server nobody named is no default to fall back on.
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((url) => typeof url === 'string' && url !== ''))
    throw new ValidationError(`${owner} needs servers: a server URL or a list of them, got ${show(settings.servers)}`, {
      details: { field: 'servers', constraint: 'type' },
    });
  for (const url of servers as string[]) {
    const scheme = serverScheme(url);
    if (scheme !== undefined && !SERVER_SCHEMES.has(scheme))
      throw new ValidationError(
        `servers: '${shownUrl(url)}' is a ${scheme}:// URL: use nats://, or tls:// to require TLS`,
        { details: { field: 'servers', constraint: 'scheme', scheme } },
      );
    // nats.js failed such a connect as a server that is down, naming the whole URL: a password written with a `/`
    // in it too.
    if (!isServerUrl(url))
      throw new ValidationError(`servers: '${shownUrl(url)}' is no server URL ([nats://][user:pass@]host[:port])`, {
        details: { field: 'servers', constraint: 'url' },
      });
  }
  // The server would refuse the connection, and the caller hear only that it was not authorized.
  const credentials = resolveCredentials(settings as GivenCredentials, servers as string[]);
  if (credentials.pass !== undefined && credentials.user === undefined)
    throw new ValidationError(`${owner} option 'pass' needs a user: option 'user', or user@ in a server URL`, {
      details: { field: 'pass', constraint: 'user' },
    });
}

/**
 * The schemes a server URL may have: NATS, or NATS that must be over TLS. nats.js reads the host and port of any
 * URL, whatever its scheme, and uses TLS only when the server offers it: `tls://` was silently plaintext on a
 * server without it, and `http://` connected as NATS.
 */
const SERVER_SCHEMES: ReadonlySet<string> = new Set(['nats', 'tls']);

/** The scheme of a server URL, lower-cased; `undefined` for one written without (`127.0.0.1:4222`). */
export function serverScheme(url: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
}

/** Whether the connection must be encrypted: TLS files are given, or any server is a `tls://` URL. */
function requiresTls(settings: Pick<NatsConnectionSettings, 'servers' | 'tls'>): boolean {
  const { servers } = settings;
  return (
    settings.tls !== undefined ||
    (typeof servers === 'string' ? [servers] : servers).some((url) => serverScheme(url) === 'tls')
  );
}

export { isServerUrl, shownUrl, withoutUserInfo } from './url-credentials.js';

/**
 * `servers` as messages show them: each URL {@link withoutUserInfo}, so that a password given in one
 * (`nats://user:pass@host`, which the README offers) never reaches an error, a log or `onError`.
 */
export function shownServers(servers: string | readonly string[]): string {
  return (typeof servers === 'string' ? servers.split(',') : servers).map(shownUrl).join(',');
}

/** Where and as whom to connect. */
export interface NatsConnectionSettings {
  /** One or more NATS URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /**
   * The connection's name, as the server's monitoring shows it: one line of text, not empty, without control
   * characters, at most {@link MAX_NAME_BYTES} bytes as JSON.
   */
  readonly name?: string;
  /** @default retry every 2 s for ever */
  readonly reconnect?: ReconnectPolicy;
  /** How long each attempt to connect may take (the first, and each reconnect). @default 20000 (nats.js's) */
  readonly connectTimeoutMs?: number;
  /**
   * How often the connection pings its server. A server that stops answering and leaves the connection open (its
   * process frozen, a network path gone silent) is taken for lost when a ping is due with two still unanswered, 2 to
   * 3 intervals after it went silent: the connection drops and reconnects as `reconnect` says. Keep it well above
   * the longest pause of the process's event loop, which can hold back an answer.
   * @default 120000 (nats.js's: a silent server is noticed after 4 to 6 minutes)
   */
  readonly pingIntervalMs?: number;
  /** TLS files for a server whose certificate a private CA signed, or that verifies clients; TLS is then required. */
  readonly tls?: NatsTlsFiles;
}

/**
 * The keys of {@link NatsConnectionSettings}, for the option bags that extend it (`connect`'s, `subscribeEvents`')
 * to list with their own in {@link optionKeys}.
 */
export const CONNECTION_SETTING_KEYS = {
  servers: true,
  user: true,
  pass: true,
  token: true,
  name: true,
  reconnect: true,
  connectTimeoutMs: true,
  pingIntervalMs: true,
  tls: true,
} as const satisfies { readonly [K in keyof Required<NatsConnectionSettings>]: true };

/**
 * The nats.js options for `settings`: credentials only when given, in the options or in a server URL (see
 * url-credentials.ts), no async traces, the reconnect policy.
 */
export function connectionOptions(settings: NatsConnectionSettings): ConnectionOptions {
  const servers = typeof settings.servers === 'string' ? [settings.servers] : [...settings.servers];
  return {
    servers: servers.map(withoutUserInfo),
    ...resolveCredentials(settings, servers),
    ...(settings.name === undefined ? {} : { name: settings.name }),
    ...(settings.connectTimeoutMs === undefined ? {} : { timeout: settings.connectTimeoutMs }),
    ...(settings.pingIntervalMs === undefined ? {} : { pingInterval: settings.pingIntervalMs }),
    // Async stack traces cost nats.js an Error per request (~50 µs); Tether's errors name the operation anyway.
    noAsyncTraces: true,
    // Given, nats.js refuses a server that offers no TLS; left out, it takes TLS only where a server offers it. The
    // files go as paths: nats.js reads them at each connect, so a certificate renewed in place is taken.
    ...(requiresTls(settings) ? { tls: { ...settings.tls } } : {}),
    maxReconnectAttempts: settings.reconnect?.maxAttempts ?? -1,
    reconnectTimeWait: settings.reconnect?.waitMs ?? 2000,
  };
}

/**
 * Connects; a server that cannot be reached at all is a `NatsConnectionError` (`unreachable`) naming the servers (no
 * retry), and what TLS told, if anything, in `details.tls` (`not_offered`; a server's alert or silence, see
 * {@link TlsRefusal}). A connect that failed leaves no socket open (see closing-transport.ts).
 */
export async function connectNats(settings: NatsConnectionSettings): Promise<NatsConnection> {
  try {
    return await connectClosingGivenUp(connectionOptions(settings));
  } catch (error) {
    const noTls = (error as Partial<NatsError>).code === ErrorCode.ServerOptionNotAvailable && requiresTls(settings);
    // What asked for TLS: `details.requiredBy`, for the CLI to name the setting its user gave.
    const requiredBy = settings.tls === undefined ? 'url' : 'files';
    const requirer = requiredBy === 'url' ? 'a tls:// URL requires' : 'the TLS files given require';
    // A server's TLS alert, or its silence once encrypted, in place of nats.js's TIMEOUT, which named neither.
    const refusal = noTls ? undefined : tlsRefusalOf(error, settings.tls?.certFile !== undefined);
    const message = noTls
      ? `the server offers no TLS, which ${requirer}`
      : refusal === undefined
        ? messageOf(error)
        : tlsRefusalNote(refusal);
    throw new NatsConnectionError('unreachable', shownServers(settings.servers), message, {
      cause: error,
      ...(noTls ? { details: { tls: 'not_offered', requiredBy } } : refusal === undefined ? {} : { details: refusal }),
    });
  }
}

/**
 * Tells `report` once when the connection drops and once when it is back: nats.js's per-attempt events are left
 * out, so an outage of any length is two lines, not one per retry.
 */
export function reportReconnects(
  connection: NatsConnection,
  settings: NatsConnectionSettings,
  report: (error: unknown, where: string) => void,
): void {
  const plan = reconnectPlan(settings.reconnect);
  void (async () => {
    for await (const status of connection.status()) {
      const server = String(status.data);
      if (status.type === Events.Disconnect) report(new NatsConnectionError('disconnected', server, plan), 'nats');
      else if (status.type === Events.Reconnect) report(new NatsConnectionError('reconnected', server), 'nats');
    }
  })();
}

/**
 * What a dropped connection does next, as its line says it: retry for ever, a bounded number of times (the line
 * would otherwise promise retries that stop), or not at all (`maxAttempts: 0`, `TETHER_MAX_RECONNECTS=0`).
 */
function reconnectPlan(reconnect: ReconnectPolicy | undefined): string {
  const maxAttempts = reconnect?.maxAttempts ?? -1;
  if (maxAttempts === 0) return 'not reconnecting (no reconnect attempt allowed)';
  const every = `reconnecting every ${reconnect?.waitMs ?? 2000} ms`;
  if (maxAttempts < 0) return every;
  return `${every}, at most ${maxAttempts} ${maxAttempts === 1 ? 'attempt' : 'attempts'} per server`;
}

/** What {@link onConnectionChange} reports: the connection dropped, or is back after dropping. */
export type ConnectionChange = 'disconnected' | 'reconnected';

/**
 * Calls `listener` each time the connection drops (nats.js's `disconnect` status: messages sent meanwhile on core
 * NATS are lost to it) and each time it is back (`reconnect`, once nats.js has subscribed again: what is
 * published from then on reaches the subscriptions; the moment to renew what the server may have forgotten, such
 * as the consumers of KV watches), until it closes. A drop is told before the connection can be back: the status
 * comes as the socket closes, a reconnect only after a new one is open. Returns what stops listening, for a
 * listener that ends before its connection does.
 */
export function onConnectionChange(
  connection: NatsConnection,
  listener: (change: ConnectionChange) => void,
): () => void {
  const statuses = connection.status();
  void (async () => {
    for await (const status of statuses) {
      if (status.type === Events.Disconnect) listener('disconnected');
      else if (status.type === Events.Reconnect) listener('reconnected');
    }
  })();
  // nats.js returns its queued iterator, whose `stop` removes it from the connection's listeners; it is typed only
  // as an iterable, and leaving the loop would not remove it until the next status.
  return () => (statuses as Partial<{ stop(): void }>).stop?.();
}
