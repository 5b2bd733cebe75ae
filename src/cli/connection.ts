/**
 * The options every networked command shares (`--nats`, `--prefix`, `--timeout`, `--session`) and how a
 * command gets a client and a session from them. A server that cannot be reached becomes `UnreachableError`
 * (exit code 3) here, once, for every command.
 * @module
 */
// The units themselves, not the src/index.ts barrel: the barrel loads Ax too, which only `serve` needs and which
// would add some 0.4 s to every command a script runs.
import { ValidationError } from '../errors.js';
import { isSessionId } from '../variables/names.js';
import {
  isServerUrl,
  serverScheme,
  shownUrl,
  withoutUserInfo,
  type ReconnectPolicy,
} from '../nats/connection-options.js';
import { connect, DEFAULT_REQUEST_TIMEOUT_MS, type TetherClient } from '../nats/remote-client.js';
import type { RemoteSession } from '../nats/remote-session.js';
import { isSubjectPrefix } from '../nats/subjects.js';
import { assertTlsFiles, type NatsTlsFiles } from '../nats/tls-files.js';
import { resolveCredentials } from '../nats/url-credentials.js';
import { TLS_VARIABLES, UsageError, natsUnreachable } from './cli-errors.js';
import type { CliIo, OptionSpec } from './command.js';
import { parseCount, parseMs } from './values.js';
import { messageOf } from '../printable.js';
import { oneLine } from './output.js';

/** The default server: a local one, as `nats` tools assume. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/**
 * How long each attempt to connect waits for the server to answer, for every command: a server that takes the TCP
 * connection and never answers (or an address nothing answers) fails as a request to it would, not after nats.js's
 * 20 s. A client command waits as long as its `--timeout` when that is longer.
 */
export const CONNECT_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;

/** `--nats` and `--prefix`: where the nodes are. */
export const NATS_OPTIONS = {
  nats: {
    type: 'string',
    placeholder: '<url>',
    description: `NATS server URL(s), comma-separated (env NATS_URL, default ${DEFAULT_NATS_URL})`,
  },
  prefix: {
    type: 'string',
    placeholder: '<prefix>',
    description: 'subject prefix of the nodes, one per deployment (env TETHER_PREFIX, default tether)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What a client command adds: a request timeout. */
export const CLIENT_OPTIONS = {
  ...NATS_OPTIONS,
  timeout: {
    type: 'string',
    placeholder: '<ms>',
    description:
      'how long a request waits for its reply (default 5000, longer when the node says it is still at it; a value given is kept); connecting to NATS waits as long, 5000 at least',
  },
} as const satisfies Record<string, OptionSpec>;

/** `--session`, for the commands that work on one session. */
export const SESSION_OPTION = {
  session: { type: 'string', short: 's', placeholder: '<id>', description: 'the session (env TETHER_SESSION)' },
} as const satisfies Record<string, OptionSpec>;

/** The NATS URLs from `--nats`, else `NATS_URL`, else the local default. */
export function natsServers(values: { readonly nats?: string }, io: CliIo, command: readonly string[] = []): string[] {
  // An empty variable counts as unset, as `TETHER_SESSION`'s always did (`NATS_URL= tether ...`).
  const text = values.nats ?? (io.env.NATS_URL || undefined) ?? DEFAULT_NATS_URL;
  const servers = text
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const from = values.nats === undefined ? 'NATS_URL' : '--nats';
  if (servers.length === 0) throw new UsageError(`${from} names no server`, command);
  // A URL nats.js cannot parse failed the connection with ERR_INVALID_URL, which read as a server that is down.
  const bad = servers.find((url) => !isServerUrl(url));
  if (bad !== undefined)
    throw new UsageError(
      // Up to its last `@`, wherever it is: a malformed URL may hold credentials no parser would find.
      `${from} holds no valid URL: '${shownUrl(bad)}'`,
      command,
    );
  const foreign = servers.find((url) => !['nats', 'tls', undefined].includes(serverScheme(url)));
  if (foreign !== undefined)
    throw new UsageError(
      `${from} holds a ${serverScheme(foreign)}:// URL, ` +
        `'${withoutUserInfo(foreign)}': use nats://, or tls:// to require TLS`,
      command,
    );
  return servers;
}

/** How a command authenticates to NATS. */
export interface NatsCredentials {
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly tls?: NatsTlsFiles;
}

/**
 * Where a command connects and as whom: the servers without credentials (they go into error messages and
 * connection names), and the credentials, each part from its variable if set, else from the first URL that carries
 * some (nats.js itself ignores them there): the user from `NATS_USER` or `user@`, the password from `NATS_PASSWORD`
 * or `:pass@`, else the token from `NATS_TOKEN` or a lone `token@`. A password with no user is a usage error. The TLS
 * files come from `NATS_CA`, `NATS_CERT` and `NATS_KEY`; one that cannot be used is a usage error naming its variable.
 */
export function natsTarget(
  values: { readonly nats?: string },
  io: CliIo,
  command: readonly string[] = [],
): { readonly servers: string[]; readonly credentials: NatsCredentials } {
  const given = natsServers(values, io, command);
  const env = io.env;
  const resolved = resolveCredentials({ user: env.NATS_USER, pass: env.NATS_PASSWORD, token: env.NATS_TOKEN }, given);
  if (resolved.pass && !resolved.user)
    throw new UsageError('NATS_PASSWORD needs a user: set NATS_USER, or give user@ in the URL', command);
  const tls = tlsFiles(env, command);
  const credentials: NatsCredentials = { ...resolved, ...(tls === undefined ? {} : { tls }) };
  return { servers: given.map(withoutUserInfo), credentials };
}

/** The TLS files the environment names (an empty variable is unset), checked as a connection checks them. */
function tlsFiles(env: CliIo['env'], command: readonly string[]): NatsTlsFiles | undefined {
  const tls = Object.fromEntries(
    Object.entries(TLS_VARIABLES).flatMap(([field, variable]) => (env[variable] ? [[field, env[variable]]] : [])),
  ) as NatsTlsFiles;
  if (Object.keys(tls).length === 0) return undefined;
  try {
    assertTlsFiles('tether', tls, TLS_VARIABLES);
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message, command);
    throw error;
  }
  return tls;
}

/**
 * The subject prefix from `--prefix`, else `TETHER_PREFIX`; undefined means the default. One that is no prefix is
 * a usage error naming where it came from, refused before connecting as every option value the CLI can check is.
 */
export function natsPrefix(
  values: { readonly prefix?: string },
  io: CliIo,
  command: readonly string[] = [],
): string | undefined {
  const prefix = values.prefix ?? (io.env.TETHER_PREFIX || undefined);
  if (prefix !== undefined && !isSubjectPrefix(prefix))
    throw new UsageError(
      `${values.prefix === undefined ? 'TETHER_PREFIX' : '--prefix'} '${prefix}' is no subject prefix: use ` +
        "dot-separated words of letters, digits, '_' and '-'",
      command,
    );
  return prefix;
}

/** `id`, given by `--session` or by `TETHER_SESSION` (`from`), when it is a session id; a usage error otherwise. */
export function checkedSessionId(id: string, from: '--session' | 'TETHER_SESSION', command: readonly string[]): string {
  if (!isSessionId(id))
    throw new UsageError(
      `${from} '${id}' is no session id: use 1 to 128 ASCII letters (A-Z, a-z), digits, '_' and '-'`,
      command,
    );
  return id;
}

/**
 * The session from `--session`, else `TETHER_SESSION`; a usage error when neither is given or the one given is no
 * session id (see {@link checkedSessionId}). An empty variable is unset, but an empty `--session ''` is given, and
 * refused.
 */
export function sessionIdOf(values: { readonly session?: string }, io: CliIo, command: readonly string[]): string {
  if (values.session !== undefined) return checkedSessionId(values.session, '--session', command);
  const id = io.env.TETHER_SESSION || undefined;
  if (id === undefined) throw new UsageError('no session: give --session <id> (or set TETHER_SESSION)', command);
  return checkedSessionId(id, 'TETHER_SESSION', command);
}

/**
 * How a connection that was up retries: `TETHER_MAX_RECONNECTS` attempts per server (default -1, for ever, so
 * `serve`, `var watch` and `events` carry on across a NATS restart) every `TETHER_RECONNECT_WAIT_MS` (default
 * 2000). A first connection is never retried: one-shot commands fail at once.
 */
export function reconnectPolicy(io: CliIo, command: readonly string[]): ReconnectPolicy {
  // An empty variable counts as unset, as NATS_URL's does.
  const attempts = io.env.TETHER_MAX_RECONNECTS || undefined;
  const wait = io.env.TETHER_RECONNECT_WAIT_MS || undefined;
  const forEver = attempts === undefined || attempts.trim() === '-1';
  // -1 is taken before the count is read: the count's refusal names it too, or -2 would be told to be a whole number.
  const maxAttempts = forEver
    ? undefined
    : parseCount(attempts, 'TETHER_MAX_RECONNECTS', command, 0, undefined, '-1 (for ever)');
  return {
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(wait === undefined ? {} : { waitMs: parseMs(wait, 'TETHER_RECONNECT_WAIT_MS', command) }),
  };
}

/**
 * How often a connection pings NATS, from `TETHER_PING_INTERVAL_MS` (default nats.js's 2 minutes): a long-running
 * command on a server gone silent, its connection left open, notices after 2 to 3 intervals and reconnects.
 */
export function pingInterval(io: CliIo, command: readonly string[]): { readonly pingIntervalMs?: number } {
  // An empty variable counts as unset, as NATS_URL's does.
  const interval = io.env.TETHER_PING_INTERVAL_MS || undefined;
  return interval === undefined ? {} : { pingIntervalMs: parseMs(interval, 'TETHER_PING_INTERVAL_MS', command) };
}

/**
 * Reads what a command shares with the other networked commands (`--nats` and the `NATS_*` variables, `--prefix`,
 * `--timeout`, the reconnect and ping variables, `--session`) as its connection will, and throws the first usage
 * error among them. Run before the command itself, so before it judges its arguments: the command line is read before
 * it is judged, and a bad `--timeout` is a usage error (exit 2) even beside a name no variable can have (exit 1). A
 * command that declares none of these options (`--version`, `help`) is left alone.
 */
export function checkSharedOptions(
  options: Readonly<Record<string, OptionSpec>>,
  values: Readonly<Record<string, unknown>>,
  io: CliIo,
  command: readonly string[],
): void {
  if (options.nats === undefined) return;
  const given: { nats?: string; prefix?: string; timeout?: string; session?: string } = {};
  for (const key of ['nats', 'prefix', 'timeout', 'session'] as const) {
    const value = values[key];
    if (typeof value === 'string') given[key] = value;
  }
  natsTarget(given, io, command);
  natsPrefix(given, io, command);
  if (options.timeout !== undefined && given.timeout !== undefined) parseMs(given.timeout, '--timeout', command);
  reconnectPolicy(io, command);
  pingInterval(io, command);
  // The session a command works on (SESSION_OPTION's) is required; the one that narrows a feed (events) is not, and
  // TETHER_SESSION does not narrow it.
  if (options.session === SESSION_OPTION.session) sessionIdOf(given, io, command);
  else if (options.session !== undefined && given.session !== undefined)
    checkedSessionId(given.session, '--session', command);
}

/** What commands print for connection news and failures no call waits for: one stderr line each. */
export function reportTo(io: CliIo): (error: unknown, where: string) => void {
  return (error, where) => io.err(`tether: ${oneLine(`${where}: ${messageOf(error)}`)}`);
}

/**
 * What a one-shot command does with the client's connection news and background failures (a cancel it sends as it
 * closes, say): nothing. Its outcome is its one line, and a failure must print exactly one (README, `--help`).
 */
export const quiet = (): void => {};

/** Connects a client; a server that cannot be reached is an `UnreachableError`. `onError`: see {@link quiet}. */
export async function openClient(
  values: { readonly nats?: string; readonly prefix?: string; readonly timeout?: string },
  io: CliIo,
  command: readonly string[],
  onError: (error: unknown, where: string) => void,
): Promise<TetherClient> {
  const { servers, credentials } = natsTarget(values, io, command);
  const prefix = natsPrefix(values, io, command);
  const timeoutMs = values.timeout === undefined ? undefined : parseMs(values.timeout, '--timeout', command);
  const reconnect = reconnectPolicy(io, command);
  const ping = pingInterval(io, command);
  try {
    return await connect({
      servers,
      ...credentials,
      name: `tether-cli ${command.join(' ')}`,
      ...(prefix === undefined ? {} : { prefix }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      // Never sooner than the default: a short --timeout is for the requests.
      connectTimeoutMs: Math.max(timeoutMs ?? CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_MS),
      reconnect,
      ...ping,
      onError,
    });
  } catch (error) {
    // What connect refuses as input, before connecting, is the user's mistake, not the network's.
    if (error instanceof ValidationError) throw error;
    throw natsUnreachable(servers, error);
  }
}

/**
 * Runs `task` with a client and a handle of the session named by the options, and always closes the client. The
 * session is not opened: one nobody opened is `session_not_found` (a command that writes and may need the session
 * created opens it only for a write the node accepts: see open-if-accepted.ts). `onError` hears the client's news
 * and background failures; by default nothing does ({@link quiet}).
 */
export async function withSession<T>(
  values: { readonly nats?: string; readonly prefix?: string; readonly timeout?: string; readonly session?: string },
  io: CliIo,
  command: readonly string[],
  options: { readonly onError?: (error: unknown, where: string) => void },
  task: (session: RemoteSession, client: TetherClient) => Promise<T>,
): Promise<T> {
  // Refused before connecting, as any bad input is: an unreachable NATS must not hide it.
  const sessionId = sessionIdOf(values, io, command);
  const client = await openClient(values, io, command, options.onError ?? quiet);
  try {
    return await task(await client.session(sessionId, { create: false }), client);
  } finally {
    await client.close();
  }
}
