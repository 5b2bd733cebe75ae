/**
 * The seam through which other request kinds join the session service's micro service: an endpoint names its
 * subject and checks its requests; the service does the rest (payload decoding and size limit, the
 * read-your-writes wait, `{ result, revision }` replies, error replies, draining on stop), so every endpoint of
 * the `tether` service behaves alike on the wire.
 * @module
 */
import { headers, type Msg, type MsgHdrs, type ServiceMsg } from 'nats';
import type { RequestEnded } from './request-ending.js';
import { ERROR_CODE_HEADER, ERROR_HEADER, type RequestBody } from './wire.js';

/** One extra endpoint of the `tether` service. */
export interface ServiceEndpoint {
  /** The micro endpoint name (as `$SRV.INFO` lists it), e.g. `module-execute`. */
  readonly name: string;
  /** The subscription subject, with wildcards for the tokens it serves. */
  readonly subject: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Whether a request with the `Tether-Accept-Notice` header gets an acceptance notice once `prepare` passed it,
   * at the end of the turn, unless its reply went first (see acceptance-notices.ts): for long requests, whose
   * callers watch the node meanwhile.
   * @default false
   */
  readonly announcesAcceptance?: boolean;
  /**
   * For an endpoint whose replies the node keeps for a while (module `execute`, see execution-replies.ts): the key
   * of one request's reply, read once `prepare` passed it; `undefined` for a request that cannot be asked about.
   */
  readonly replyKey?: (subject: string, body: RequestBody) => string | undefined;
  /**
   * Whether its requests are executions another node passed on here (and relays to its caller): while one runs,
   * a question to every node about it is left to the relaying node, the one its caller is to watch.
   * @default false
   */
  readonly relayedHere?: boolean;
  /**
   * For an endpoint served outside the micro service (`SessionService.serveOn`): the subject of the service endpoint
   * whose `$SRV.STATS` data counts a request on `subject`, in its `passed_on` (see endpoint-stats.ts). Without it, or
   * when it gives `undefined`, the request counts in no endpoint's figures.
   */
  readonly countedIn?: (subject: string) => string | undefined;
  /**
   * For an endpoint with a {@link ServiceEndpoint.replyKey}: holds the request of that key while it waits for
   * read-your-writes, before its work starts (see `ModuleControl.hold`); returns what lets it go.
   */
  readonly holdWhileWaiting?: (key: string) => () => void;
  /**
   * Checks one request and returns its work. Runs before the read-your-writes wait and must throw
   * `ValidationError` for bad input, so a malformed request is refused at once and changes nothing; the work runs
   * once the node has applied the store revision the client has seen, and resolves to the JSON-ready result, or
   * to a {@link RelayedReply}: another node's answer, sent on as it came. `headers` are the request's, for work
   * that passes the request on. `ended` ends when a stopping node has answered the request already (see
   * `SessionService.endRequests`): work that runs long (an execution) stops there.
   */
  prepare(subject: string, body: RequestBody, headers: MsgHdrs | undefined): (ended: RequestEnded) => Promise<unknown>;
}

/**
 * The reply another node gave to a request this one passed on to it (see module-forward.ts): its bytes and, for
 * an error reply, its micro error status and description, so that the caller gets exactly what that node answered
 * (its result or typed error, with its `revision` and `modulesRevision`).
 */
export class RelayedReply {
  constructor(
    readonly data: Uint8Array,
    readonly error?: { readonly status: number; readonly description: string },
  ) {}
}

/** What the service's handlers use of a request: a micro service message's, or a plain subscription's. */
export type ServiceRequest = Pick<ServiceMsg, 'subject' | 'data' | 'reply' | 'respond' | 'respondError'> & {
  readonly headers?: MsgHdrs | undefined;
};

/**
 * A plain subscription's message as a {@link ServiceRequest}: its error reply sets the micro protocol's headers,
 * as `ServiceMsg.respondError` does, so callers read it alike.
 */
export function asServiceRequest(msg: Msg): ServiceRequest {
  return {
    subject: msg.subject,
    data: msg.data,
    // Read when asked for, as a micro service message's: nats.js decodes them then, and throws on a name it refuses
    // (see request-headers.ts), which must not keep the request from its error reply.
    get headers(): MsgHdrs | undefined {
      return msg.headers;
    },
    ...(msg.reply === undefined ? {} : { reply: msg.reply }),
    respond: (data, opts) => msg.respond(data, opts),
    respondError(code, description, data) {
      const h = headers();
      h.set(ERROR_CODE_HEADER, String(code));
      h.set(ERROR_HEADER, description);
      return msg.respond(data, { headers: h });
    },
  };
}
