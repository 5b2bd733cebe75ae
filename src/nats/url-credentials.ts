/**
 * Credentials carried in a server URL (`nats://user:pass@host:4222`, `nats://token@host`), which nats.js ignores
 * there: read so that the one URL a deployment hands its services (`NATS_URL`) connects as it says, embedded as in the
 * CLI, as the nats CLI and the Go and Python clients read it.
 * @module
 */

/** Credentials given apart from the URL: options, or the CLI's variables. Each part given wins over the URL's. */
export interface GivenCredentials {
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly token?: string | undefined;
}

/** The credentials to connect with: a user (with its password, if any), or a token, or none. */
export interface ResolvedCredentials {
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * What a URL carries before its host: up to its last `@` before any `/`, as URL parsers read it, so a password may
 * hold an `@`.
 */
const USER_INFO = /^((?:[^:/]*:\/\/)?)([^/]*)@/;

/** `url` without what it carries before its host (a user, a password, a token), for messages and connection names. */
export function withoutUserInfo(url: string): string {
  return url.replace(USER_INFO, '$1');
}

/**
 * `url` as a message may show it: without anything up to its last `@`, wherever that is. A URL a parser cannot read
 * (a password holding a `/` unescaped, which ends the authority early) may hold credentials {@link withoutUserInfo}
 * does not find; a valid server URL has no `@` past its user information, so for one both say the same.
 */
export function shownUrl(url: string): string {
  return url.replace(/^((?:[^:/]*:\/\/)?).*@/s, '$1');
}

/**
 * Whether nats.js can read `url` as a server: `[scheme://][credentials@]host[:port]`, a bare IPv6 address too. It
 * fails the connection of one it cannot with "Invalid URL", which read as a server that is down.
 */
export function isServerUrl(url: string): boolean {
  const hostPort = withoutUserInfo(url).replace(/^[^:/]*:\/\//, '');
  const bareIpv6 = (hostPort.match(/:/g)?.length ?? 0) > 1 && !hostPort.includes('[');
  return hostPort !== '' && URL.canParse(`http://${bareIpv6 ? `[${hostPort}]` : hostPort}`);
}

/** A URL part with its `%xx` escapes decoded; as it is when they are malformed. */
function urlDecoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * The credentials to connect with, each part from `given` if there, else from the first of `servers` that carries
 * some: the user from `user` or `user@`, the password from `pass` or `:pass@`, else the token from `token` or a lone
 * `token@` (a lone name is the user when a password goes with it). A password with no user is left for the caller to
 * refuse, in its own terms: `pass` without `user` in the answer.
 */
export function resolveCredentials(given: GivenCredentials, servers: readonly string[]): ResolvedCredentials {
  const carried = servers.map((url) => USER_INFO.exec(url)?.[2]).find((info) => info);
  const colon = carried?.indexOf(':') ?? -1;
  const inUrl =
    carried === undefined
      ? {}
      : colon === -1
        ? { name: urlDecoded(carried) }
        : { user: urlDecoded(carried.slice(0, colon)), pass: urlDecoded(carried.slice(colon + 1)) };
  const pass = given.pass || inUrl.pass;
  const user = given.user || inUrl.user || (pass ? inUrl.name : undefined);
  const token = user ? undefined : given.token || inUrl.name;
  if (user) return { user, ...(pass ? { pass } : {}) };
  if (pass) return { pass };
  return token ? { token } : {};
}
