/**
 * What a provider's error body says, for `providerMessage`: OpenAI's `{"error": {"message": "…"}}` (Anthropic's and
 * Gemini's alike), a bare `{"message": "…"}`, plain text, or a validation error of a FastAPI server, whose message
 * is no string but a list of `{ loc, msg }`: Mistral's 422 (`{"message": {"detail": [...]}}`), vLLM's and others'
 * `{"detail": [...]}`. Each item is said as `body.stream_options: Extra inputs are not permitted`; any other object
 * as its JSON.
 * @module
 */

/** How much of what a body says is quoted: a proxy's page, or a long list of validation errors, is cut there. */
const QUOTED = 500;

/** The human part of an error body (see the module comment), at most 500 characters, else `fallback`. */
export function providerMessageOf(responseBody: unknown, fallback: string): string {
  const body = providerBodyOf(responseBody);
  if (typeof body === 'string' && body.trim()) return capped(body.trim());
  if (body && typeof body === 'object') {
    const { error, message, detail } = body as { error?: unknown; message?: unknown; detail?: unknown };
    const nested = error && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
    for (const said of [typeof error === 'string' ? error : undefined, nested, message, detail]) {
      const text = textOf(said);
      if (text !== undefined) return text;
    }
  }
  return fallback;
}

/**
 * The provider's error body in `responseBody`, what Ax's `AxAIServiceStatusError` holds there: its context object
 * (util/apicall.ts), the body one level down under its own `responseBody`; anything else is the body itself.
 */
export function providerBodyOf(responseBody: unknown): unknown {
  if (typeof responseBody !== 'object' || responseBody === null) return responseBody;
  return 'responseBody' in responseBody && 'httpStatus' in responseBody ? responseBody.responseBody : responseBody;
}

/** What a message field says: its text, its validation errors, or its JSON; `undefined` when it says nothing. */
function textOf(said: unknown): string | undefined {
  if (typeof said === 'string') return said === '' ? undefined : capped(said);
  if (said === null || typeof said !== 'object' || Object.keys(said).length === 0) return undefined;
  const detail = Array.isArray(said) ? said : (said as { detail?: unknown }).detail;
  if (typeof detail === 'string' && detail !== '') return capped(detail);
  const items = Array.isArray(detail) ? detail.map(validationError).filter((item) => item !== undefined) : [];
  return capped(items.length > 0 ? items.join('; ') : JSON.stringify(said));
}

/** One of FastAPI's validation errors, `{ loc: ['body', 'stream_options'], msg }`, as `body.stream_options: msg`. */
function validationError(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
  if (typeof msg !== 'string') return undefined;
  return Array.isArray(loc) && loc.length > 0 ? `${loc.join('.')}: ${msg}` : msg;
}

function capped(text: string): string {
  return text.length > QUOTED ? `${text.slice(0, QUOTED - 1)}…` : text;
}
