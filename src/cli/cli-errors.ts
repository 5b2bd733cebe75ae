/**
 * What the CLI adds to Tether's errors: the two failures that are not Tether's (a bad command line, a NATS
 * that cannot be reached), the exit code of every error, and its one-line form `tether: <code>: <message>`.
 * These two classes never travel over the wire, which is why they live here rather than in src/errors.ts.
 * @module
 */
import { BridgeError, NatsConnectionError, NoProcError } from '../errors.js';
import type { TlsFileNames } from '../nats/tls-files.js';
import { tlsRefusalIn, tlsRefusalNote } from '../nats/tls-refusal.js';
import { messageOf } from '../printable.js';
import { oneLine } from './output.js';

/** Exit codes a script can rely on. */
export const EXIT = {
  ok: 0,
  /** A Tether error: validation, not found, conflict, locked, timeout... */
  error: 1,
  /** The command line is wrong. */
  usage: 2,
  /** NATS cannot be reached (or was lost during the command), or no node answers (`noproc`). */
  unreachable: 3,
} as const;

/** The command line does not match the command's declaration. */
export class UsageError extends Error {
  readonly code = 'usage';
  /** The command it is about, so the message can point at its `--help`. */
  readonly command: readonly string[];

  constructor(message: string, command: readonly string[] = []) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The NATS server could not be reached at all (refused, unknown host, authorization). */
export class UnreachableError extends Error {
  readonly code = 'nats_unreachable';

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnreachableError';
  }
}

/**
 * `tether module call` ran out of time, named as the user asked for it rather than by the request that timed out
 * (finding the module, or its execution), whose subject is the protocol's business. `call_timeout`, exit 1.
 */
export class ModuleCallTimeoutError extends Error {
  readonly code = 'call_timeout';

  constructor(
    readonly moduleId: string,
    readonly sessionId: string,
    readonly timeoutMs: number,
    /** Whether `--timeout` gave it (else it is a default). */
    readonly given: boolean,
    /** Whether the execution was sent: before that, nothing ran. */
    readonly sent: boolean,
    options: { readonly cause?: unknown } = {},
  ) {
    super(
      `module call '${moduleId}' in session ${sessionId} timed out after ${timeoutMs} ms${given ? ' (--timeout)' : ''}` +
        (sent ? '' : ': the module did not answer in time, so its execution was not sent'),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ModuleCallTimeoutError';
  }
}

/**
 * The file `serve --tools` names exists but failed as it loaded: its own code threw, or it does not parse, or it
 * imports what is not there. A fault of the file, not of the command line: `tools_failed`, exit 1.
 */
export class ToolsFileError extends Error {
  readonly code = 'tools_failed';

  constructor(
    readonly file: string,
    options: { readonly cause?: unknown } = {},
  ) {
    const cause = options.cause;
    super(`--tools ${file} failed to load: ${messageOf(cause)}`, { cause });
    this.name = 'ToolsFileError';
  }
}

/** The variables the TLS files come from, as the `nats` CLI names them. */
export const TLS_VARIABLES: TlsFileNames = { caFile: 'NATS_CA', certFile: 'NATS_CERT', keyFile: 'NATS_KEY' };

/** What asked for the TLS a server does not offer, in the CLI's terms: the URL's scheme, or the files' variables. */
function tlsRequirer(cause: NatsConnectionError): string {
  return cause.details.requiredBy === 'url'
    ? 'a tls:// URL requires'
    : 'the TLS files given (NATS_CA, NATS_CERT, NATS_KEY) require';
}

/**
 * What a connect's `NatsConnectionError` tells of TLS in the CLI's terms, naming {@link TLS_VARIABLES}: a server that
 * offers none where the URL or the files require it, a server's alert, or its reset or silence once encrypted (and
 * the client certificate it likely wants); `undefined` for any other error.
 */
export function tlsLine(cause: unknown): string | undefined {
  if (!(cause instanceof NatsConnectionError)) return undefined;
  if (cause.details.tls === 'not_offered') return `the server offers no TLS, which ${tlsRequirer(cause)}`;
  const refusal = tlsRefusalIn(cause.details);
  return refusal === undefined ? undefined : tlsRefusalNote(refusal, TLS_VARIABLES);
}

/**
 * `cannot reach NATS at <servers> (<code>)`, the code taken from the innermost cause (nats.js wraps its own); or, for
 * a server reached that offers no TLS where a tls:// URL or TLS files require it, that (nats.js's code would send the
 * user looking at the network, when the fix is the URL's scheme, the TLS files, or the server's TLS); or, for a server
 * that refused the TLS handshake, or reset the connection or gave no answer after it, that (see {@link tlsLine}).
 */
export function natsUnreachable(servers: readonly string[], cause: unknown): UnreachableError {
  const at = servers.join(',');
  if (cause instanceof NatsConnectionError && cause.details.tls === 'not_offered')
    return new UnreachableError(`NATS at ${at} offers no TLS, which ${tlsRequirer(cause)}`, { cause });
  const tls = tlsLine(cause);
  if (tls !== undefined) return new UnreachableError(`cannot reach NATS at ${at}: ${tls}`, { cause });
  let inner: unknown = cause;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const code = (inner as { code?: unknown } | undefined)?.code;
  const why = typeof code === 'string' && code !== '' ? ` (${code})` : '';
  return new UnreachableError(`cannot reach NATS at ${at}${why}`, { cause });
}

/** A long-running command's connection closed for good (NATS stayed away past the reconnect policy). */
export function natsLost(): UnreachableError {
  return new UnreachableError('connection to NATS lost');
}

/** The exit code of an error a command threw. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  // A connection lost under a request (`nats_connection`) is NATS out of reach too: a script retrying on 3 retries it.
  if (error instanceof UnreachableError || error instanceof NoProcError || error instanceof NatsConnectionError)
    return EXIT.unreachable;
  return EXIT.error;
}

/** `tether: <code>: <message>` on one line, whatever the error. */
export function errorLine(error: unknown): string {
  let code = 'internal_error';
  let message = messageOf(error);
  if (
    error instanceof BridgeError ||
    error instanceof UnreachableError ||
    error instanceof ModuleCallTimeoutError ||
    error instanceof ToolsFileError
  )
    code = error.code;
  if (error instanceof UsageError) {
    code = 'usage';
    message += ` (see: tether ${[...error.command, '--help'].join(' ')})`;
  }
  // Only where no node answered at all: a node's own noproc (a module's process that died) needs no node started.
  if (error instanceof NoProcError && error.unserved)
    message += ': is a tether node running on this NATS (tether serve), with the same --prefix (TETHER_PREFIX)?';
  // One line, always: a script reading stderr line by line must get exactly one per failure.
  return `tether: ${code}: ${oneLine(message)}`;
}
