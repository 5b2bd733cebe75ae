/**
 * The Tether headers of a request, read whatever the case of their names. nats.js looks header names up exactly,
 * but clients in other languages do not all spell them as documented: nats.go canonicalizes a name (`TETHER-DEADLINE`
 * goes out as `Tether-Deadline`, which is fine), while nats.py and a raw client send it as written
 * (`tether-min-revision`, `tether-incarnation`). Looked up exactly, such a header was silently not there: no
 * read-your-writes wait, no binding to one life of the session, no deadline. HTTP reads header names in any case;
 * so does a node, for its own headers, by renaming them to their documented spelling as a request comes in.
 * @module
 */
import { headers as newHeaders, type MsgHdrs } from 'nats';
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { DEADLINE_HEADER } from './request-deadline.js';
import { SEARCH_DEADLINE_HEADER } from './search-deadline.js';
import type { ServiceRequest } from './service-endpoint.js';
import { ACCEPT_NOTICE_HEADER, INCARNATION_HEADER, MIN_MODULES_REVISION_HEADER, MIN_REVISION_HEADER } from './wire.js';

/** The documented spelling of each header a request may carry, by its name in lower case. */
const SPELLING: ReadonlyMap<string, string> = new Map(
  [
    MIN_REVISION_HEADER,
    MIN_MODULES_REVISION_HEADER,
    INCARNATION_HEADER,
    ACCEPT_NOTICE_HEADER,
    DEADLINE_HEADER,
    SEARCH_DEADLINE_HEADER,
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * `headers` with every Tether request header under its documented name, or `headers` itself when each already is
 * (most requests: no copy). A header sent under two spellings counts as sent twice: its first value on the wire
 * stays first, so "the first value counts" holds whatever the case.
 */
export function spelledHeaders(headers: MsgHdrs): MsgHdrs {
  const keys = headers.keys();
  if (!keys.some((key) => (SPELLING.get(key.toLowerCase()) ?? key) !== key)) return headers;
  const spelled = newHeaders();
  // Names keep the order of their first value, and each name its values in order: the first value of a header,
  // under whichever spelling came first, stays its first.
  for (const key of keys) {
    const name = SPELLING.get(key.toLowerCase()) ?? key;
    for (const value of headers.values(key)) spelled.append(name, value);
  }
  return spelled;
}

/**
 * The headers of `msg` (see {@link spelledHeaders}), `undefined` without any.
 * @throws {ValidationError} when its header block has a name nats.js cannot read (white space, `:` or a character
 *   outside printable ASCII in it), as a raw client can send and the server passes on: refused as the client's
 *   mistake, with a JSON body, rather than the bodiless 500 nats.js's service answers a handler's throw with.
 */
export function requestHeaders(msg: Pick<ServiceRequest, 'headers'>): MsgHdrs | undefined {
  let headers: MsgHdrs | undefined;
  try {
    // nats.js decodes the header block when it is first read, and throws on a name it refuses.
    headers = msg.headers;
  } catch (failure) {
    throw new ValidationError(
      `request headers unreadable: a header name must be printable ASCII with no space or ':' (${messageOf(failure)})`,
      { cause: failure, details: { constraint: 'headers' } },
    );
  }
  return headers === undefined ? undefined : spelledHeaders(headers);
}

/**
 * `msg` as the node's handlers read it: its Tether headers under their documented names (see the module comment);
 * with headers it cannot read, `msg` without headers and the refusal to answer it with.
 */
export function spelledRequest(msg: ServiceRequest): { readonly request: ServiceRequest; readonly refusal?: unknown } {
  let headers: MsgHdrs | undefined;
  try {
    headers = requestHeaders(msg);
  } catch (refusal) {
    return { request: withHeaders(msg, undefined), refusal };
  }
  return { request: headers === msg.headers ? msg : withHeaders(msg, headers) };
}

/** `msg` with `headers` in place of its own; it answers as `msg` does. */
function withHeaders(msg: ServiceRequest, headers: MsgHdrs | undefined): ServiceRequest {
  return {
    subject: msg.subject,
    data: msg.data,
    ...(headers === undefined ? {} : { headers }),
    ...(msg.reply === undefined ? {} : { reply: msg.reply }),
    respond: (data, opts) => msg.respond(data, opts),
    respondError: (code, description, data) => msg.respondError(code, description, data),
  };
}
