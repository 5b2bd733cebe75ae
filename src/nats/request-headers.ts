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

/** `msg` as the node's handlers read it: its Tether headers under their documented names (see the module comment). */
export function spelledRequest(msg: ServiceRequest): ServiceRequest {
  const { headers } = msg;
  if (headers === undefined) return msg;
  const spelled = spelledHeaders(headers);
  if (spelled === headers) return msg;
  return {
    subject: msg.subject,
    data: msg.data,
    headers: spelled,
    ...(msg.reply === undefined ? {} : { reply: msg.reply }),
    respond: (data, opts) => msg.respond(data, opts),
    respondError: (code, description, data) => msg.respondError(code, description, data),
  };
}
