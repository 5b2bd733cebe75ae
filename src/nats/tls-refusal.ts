/**
 * What a connect that failed tells of its TLS handshake. A server that verifies its clients (`verify: true`) and is
 * shown no client certificate ends the connection with a TLS alert, which, over TLS 1.3, comes after the client's
 * side of the handshake is done: nats.js then waits for the server's answer and fails with its TIMEOUT, and the
 * caller could not tell why. The alert is read where closing-transport.ts kept it. It can be lost: the client has
 * written its CONNECT by then, and a server that closes with that unread resets the connection, which drops the
 * alert not yet read (often, here, when a certificate was shown and refused). A connection reset, or silent, once
 * encrypted is told as such, and, when it showed no certificate, what is likely missing.
 * @module
 */
import { ErrorCode } from 'nats';
import { givenUpTransport } from './closing-transport.js';
import { TLS_OPTION_NAMES, type TlsFileNames } from './tls-files.js';

/**
 * Whether the server wants a client certificate none was given for: `required` when its alert was sent for the
 * certificate (`certificate required`, `bad certificate`), `likely_required` when it only ended the handshake
 * (`handshake failure`, which other reasons also bring) or gave no answer after it.
 */
export type ClientCertificateFinding = 'required' | 'likely_required';

/**
 * What a failed connect tells of TLS, as `NatsConnectionError` (`unreachable`) carries it in `details`: `alert`, the
 * server ended the handshake with the TLS alert `alert` (OpenSSL's name, lower case: `bad certificate`); `reset`,
 * the handshake was done and the server closed the connection with no answer (`reset`: `ECONNRESET`, `EPIPE`), its
 * alert, if it sent one, lost; `no_answer`, the handshake was done and the server said nothing until the connect
 * timed out. `clientCertificate` is there only when none was given.
 */
export type TlsRefusal =
  | { readonly tls: 'alert'; readonly alert: string; readonly clientCertificate?: ClientCertificateFinding }
  | { readonly tls: 'reset'; readonly reset: string; readonly clientCertificate?: 'likely_required' }
  | { readonly tls: 'no_answer'; readonly clientCertificate: 'likely_required' };

/** Node's code of a TLS alert received, e.g. `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`; the alert's name in it. */
const ALERT_CODE = /^ERR_SSL_[A-Z0-9]+_ALERT_([A-Z0-9_]+)$/;

/** The alerts a server sends for a client certificate: one none was given for is the one missing. */
const CERTIFICATE_ALERTS: ReadonlySet<string> = new Set(['certificate required', 'bad certificate']);

/** An alert a server that wants a certificate may send for its absence, as for other reasons. */
const HANDSHAKE_FAILURE = 'handshake failure';

/** The codes of a socket the server closed under the client: read, `ECONNRESET`; written, `EPIPE`. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/** How deep into causes an alert is looked for: nats.js wraps once, Tether once more. */
const MAX_DEPTH = 4;

/**
 * What `error`, with which a connect failed, tells of TLS (see {@link TlsRefusal}); `undefined` when nothing: an
 * unreachable server, a refusal that is no TLS alert, a connect that timed out before its handshake was done, or one
 * that showed a certificate and got no answer.
 */
export function tlsRefusalOf(error: unknown, clientCertificateGiven: boolean): TlsRefusal | undefined {
  const transport = givenUpTransport(error);
  const alert = alertIn(error, MAX_DEPTH) ?? alertIn(transport?.closedWith, MAX_DEPTH);
  if (alert !== undefined) {
    const finding: ClientCertificateFinding | undefined = clientCertificateGiven
      ? undefined
      : CERTIFICATE_ALERTS.has(alert)
        ? 'required'
        : alert === HANDSHAKE_FAILURE
          ? 'likely_required'
          : undefined;
    return { tls: 'alert', alert, ...(finding === undefined ? {} : { clientCertificate: finding }) };
  }
  const timedOut = (error as { code?: unknown } | null)?.code === ErrorCode.Timeout;
  if (!timedOut || transport?.secured !== true) return undefined;
  const missing = clientCertificateGiven ? {} : ({ clientCertificate: 'likely_required' } as const);
  const reset = (transport.closedWith as { code?: unknown } | undefined)?.code;
  if (typeof reset === 'string' && RESET_CODES.has(reset)) return { tls: 'reset', reset, ...missing };
  return clientCertificateGiven ? undefined : { tls: 'no_answer', clientCertificate: 'likely_required' };
}

/** The name of the TLS alert `error` or one of its causes (`cause`, nats.js's `chainedError`) is. */
function alertIn(error: unknown, depth: number): string | undefined {
  if (typeof error !== 'object' || error === null || depth === 0) return undefined;
  const { code, cause, chainedError } = error as { code?: unknown; cause?: unknown; chainedError?: unknown };
  const name = typeof code === 'string' ? ALERT_CODE.exec(code)?.[1] : undefined;
  if (name !== undefined) return name.toLowerCase().replaceAll('_', ' ');
  return alertIn(cause, depth - 1) ?? alertIn(chainedError, depth - 1);
}

/**
 * What a {@link TlsRefusal} says, naming the client certificate's files as `names` has them (the options' paths, the
 * CLI's variables): `the server refused the TLS handshake (alert 'bad certificate'): it requires a client
 * certificate, and none was given (tls.certFile, tls.keyFile)`.
 */
export function tlsRefusalNote(refusal: TlsRefusal, names: TlsFileNames = TLS_OPTION_NAMES): string {
  const what =
    refusal.tls === 'alert'
      ? `the server refused the TLS handshake (alert '${refusal.alert}')`
      : refusal.tls === 'reset'
        ? `the server closed the connection once the TLS handshake was done (${refusal.reset})`
        : 'no answer after the TLS handshake (TIMEOUT)';
  if (refusal.clientCertificate === undefined) return what;
  const wants = `${refusal.tls === 'alert' ? 'it' : 'the server'} ${refusal.clientCertificate === 'required' ? 'requires' : 'likely requires'}`;
  return `${what}: ${wants} a client certificate, and none was given (${names.certFile}, ${names.keyFile})`;
}

/** The {@link TlsRefusal} the `details` of a `NatsConnectionError` carry, if any. */
export function tlsRefusalIn(details: Readonly<Record<string, unknown>>): TlsRefusal | undefined {
  const { tls, alert, reset, clientCertificate } = details;
  const finding =
    clientCertificate === 'required' || clientCertificate === 'likely_required' ? clientCertificate : undefined;
  if (tls === 'alert' && typeof alert === 'string')
    return { tls, alert, ...(finding === undefined ? {} : { clientCertificate: finding }) };
  if (tls === 'reset' && typeof reset === 'string' && finding !== 'required')
    return { tls, reset, ...(finding === undefined ? {} : { clientCertificate: finding }) };
  if (tls === 'no_answer' && finding === 'likely_required') return { tls, clientCertificate: finding };
  return undefined;
}
