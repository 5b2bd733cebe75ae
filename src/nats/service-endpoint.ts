/**
 * The seam through which other request kinds join the session service's micro service: an endpoint names its
 * subject and checks its requests; the service does the rest (payload decoding and size limit, the
 * read-your-writes wait, `{ result, revision }` replies, error replies, draining on stop), so every endpoint of
 * the `tether` service behaves alike on the wire.
 * @module
 */
import type { RequestBody } from './wire.js';

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
   * Checks one request and returns its work. Runs before the read-your-writes wait and must throw
   * `ValidationError` for bad input, so a malformed request is refused at once and changes nothing; the work runs
   * once the node has applied the store revision the client has seen, and resolves to the JSON-ready result.
   */
  prepare(subject: string, body: RequestBody): () => Promise<unknown>;
}
