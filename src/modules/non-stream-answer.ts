/**
 * A streamed request answered with something that is no event stream: a proxy's HTML error page, or a gateway's
 * error object (`{"error": {"message": "overloaded"}}`), sent with HTTP 200. Ax reads such a body as a stream with no
 * events in it, an empty answer, which then fails as the model's answer lacking its output field
 * (`model_answer_invalid`, after Ax's corrections asked the provider again and again): the provider's fault reported
 * as the model's, with advice to change the signature. Such an answer fails instead with {@link NotAStreamError}, a
 * `SyntaxError` as Ax's own parse of a body that is not JSON is, which provider-errors.ts reports as
 * `provider_unavailable` (`malformed_response`).
 * @module
 */
import { providerMessageOf } from './provider-errors.js';

/** The text a body must start with, past white space, to be read as an event stream: an SSE field or comment. */
const EVENT_STREAM_START = /^\s*(?:data|event|id|retry)?:/;

/** How much of the body the error quotes. */
const QUOTED = 200;

/** A streamed request's answer that is no event stream (see the module comment). */
export class NotAStreamError extends SyntaxError {
  constructor(contentType: string, said: string) {
    super(
      `the provider answered a streamed request with ${contentType || 'no content type'}, not an event stream: ${said}`,
    );
    this.name = 'NotAStreamError';
  }
}

/**
 * `fetch`, with a successful answer to a streamed request failing with {@link NotAStreamError} when its body is no
 * event stream. A body labelled `text/event-stream` is passed on as it comes, unread; another is read whole (an
 * error page is small) and passed on when it is an event stream after all, mislabelled.
 */
export function fetchRefusingNonStreamAnswers(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body || contentType.includes('text/event-stream') || !asksForStream(init)) {
      return response;
    }
    const body = await response.text();
    if (EVENT_STREAM_START.test(body)) {
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    throw new NotAStreamError(contentType, quoted(body));
  };
}

/**
 * Whether the request asked for a streamed answer: `"stream": true` at the top of its JSON body, as Ax sends it. Parsed,
 * not searched for: a prompt may hold that text.
 */
function asksForStream(init: RequestInit | undefined): boolean {
  if (typeof init?.body !== 'string' || !init.body.includes('"stream"')) return false;
  try {
    return (JSON.parse(init.body) as { stream?: unknown } | null)?.stream === true;
  } catch {
    return false;
  }
}

/** What the body says: a JSON error's message, or the start of its text. */
function quoted(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const said = parsed === undefined ? body.trim() : providerMessageOf(parsed, body.trim());
  return said.length > QUOTED ? `${said.slice(0, QUOTED)}…` : said;
}
