/**
 * A provider's response with another body in place of its own, its status and headers kept: what each `fetch` wrapper
 * of a language model (answer deadline, cut streams, answers that are no stream) hands Ax instead of the response.
 * @module
 */

/** `response` with `body` in place of its own, and `headers` in place of its own when given. */
export function withBody(
  response: Response,
  body: ReadableStream | string | null,
  headers: Headers = response.headers,
): Response {
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
