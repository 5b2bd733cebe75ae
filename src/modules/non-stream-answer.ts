/**
 * A streamed request answered with something that is no event stream: a proxy's HTML error page, or a gateway's
 * error object (`{"error": {"message": "overloaded"}}`), sent with HTTP 200. Ax reads such a body as a stream with no
 * events in it, an empty answer, which then fails as the model's answer lacking its output field
 * (`model_answer_invalid`, after Ax's corrections asked the provider again and again): the provider's fault reported
 * as the model's, with advice to change the signature. Such an answer fails instead with {@link NotAStreamError}, a
 * `SyntaxError` as Ax's own parse of a body that is not JSON is, which provider-errors.ts reports as
 * `provider_unavailable` (`malformed_response`).
 *
 * Only the start of a body is read to tell, whatever its label: a gateway may send its error object under the
 * `text/event-stream` label the request asked for, and the checks of streamed answers would find no event in it and
 * report an answer cut off on its way, the gateway's words lost. An event stream goes on streaming as it comes,
 * labelled `text/event-stream` for the wrappers around this one (one labelled `text/plain`, or not at all, too).
 * @module
 */
import { cutText } from '../printable.js';
import { providerMessageOf } from './provider-message.js';
import { withBody } from './response-body.js';

/** The text a body must start with, past white space, to be read as an event stream: an SSE field or comment. */
const EVENT_STREAM_START = /^\s*(?:data|event|id|retry)?:/;

/** How much of a body that is no event stream is read, to quote it: an error page is small, and the rest is dropped. */
const READ_OF_OTHER = 64 * 1024;

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
 * event stream.
 */
export function fetchRefusingNonStreamAnswers(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body || !asksForStream(input, init)) {
      return response;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const read: Uint8Array[] = [];
    let start = '';
    let done = false;
    // Enough to tell: the first field's name and its colon, or text that cannot be one.
    while (!done && !(/\S/.test(start) && (/[:\n]/.test(start) || start.trimStart().length > 8))) {
      const next = await reader.read();
      done = next.done;
      if (next.value) {
        read.push(next.value);
        start += decoder.decode(next.value, { stream: true });
      }
    }
    // Nothing but white space under the label: a stream that ended before its first event, cut off on its way.
    const labelled = contentType.includes('text/event-stream');
    if (EVENT_STREAM_START.test(start) || (labelled && !/\S/.test(start))) {
      // Labelled as what it is, so that the checks of streamed answers (answer-stream-check.ts) read it too.
      const headers = new Headers(response.headers);
      headers.set('content-type', 'text/event-stream');
      return withBody(response, replayed(read, reader), headers);
    }
    let body = start;
    while (!done && body.length < READ_OF_OTHER) {
      const next = await reader.read();
      done = next.done;
      if (next.value) body += decoder.decode(next.value, { stream: true });
    }
    if (!done) void reader.cancel().catch(() => {});
    throw new NotAStreamError(contentType, quoted(body));
  };
}

/** The chunks `read` already, then the rest of `reader`. */
function replayed(read: readonly Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next < read.length) return controller.enqueue(read[next++]!);
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Whether the request asked for a streamed answer: `"stream": true` at the top of its JSON body, as most of Ax's
 * providers send it (parsed, not searched for: a nested field may be called so), or `alt=sse` in its URL, as Gemini's.
 */
function asksForStream(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): boolean {
  const url = input instanceof Request ? input.url : String(input);
  if (url.includes('alt=sse')) return true;
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
  return said.length > QUOTED ? `${cutText(said, QUOTED)}…` : said;
}
