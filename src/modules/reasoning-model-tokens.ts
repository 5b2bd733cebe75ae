/**
 * A module's `maxTokens` reaches OpenAI's o-series models as `max_completion_tokens`, as it does every other model.
 *
 * Ax 24 builds a chat request for a model named `o1`, `o1-mini`, `o1-pro`, `o3`, `o3-mini`, `o3-pro` or `o4-mini`
 * without any of its sampling fields (OpenAI's reasoning models refuse `temperature`, `top_p` and the penalties), and
 * the answer's limit goes with them, though those models take it (`max_completion_tokens` was made for them): a
 * `maxTokens` bound to cap what a model that reasons at length may cost was read, named in the provenance, and never
 * sent. The limit each chat call asks for is kept beside the call ({@link askingMaxTokens}), and the fetch given to
 * Ax ({@link fetchKeepingMaxTokens}) puts it back into such a request's body; the other fields stay out.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AxAIService } from '@ax-llm/ax';

/** The model names whose requests Ax builds without their sampling fields (its OpenAI chat request, Ax 24.0). */
const BARE_REQUEST_MODELS: ReadonlySet<string> = new Set([
  'o1',
  'o1-mini',
  'o1-pro',
  'o3',
  'o3-mini',
  'o3-pro',
  'o4-mini',
]);

/** The `maxTokens` of the chat call in progress, for the fetches it makes (retries included). */
const askedMaxTokens = new AsyncLocalStorage<number>();

/** Makes each chat call of `service` keep the `maxTokens` it asks for where its fetches can read it. */
export function askingMaxTokens(service: AxAIService): void {
  const chat = service.chat.bind(service);
  service.chat = (request, options) => {
    const maxTokens = request.modelConfig?.maxTokens;
    return typeof maxTokens === 'number'
      ? askedMaxTokens.run(maxTokens, () => chat(request, options))
      : chat(request, options);
  };
}

/**
 * Wraps `fetch` so that a chat request for a model Ax sends bare gets the `max_completion_tokens` its call asked for;
 * every other request goes as it is.
 */
export function fetchKeepingMaxTokens(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const maxTokens = askedMaxTokens.getStore();
    if (maxTokens === undefined || typeof init?.body !== 'string') return fetch(input, init);
    // Every bare model's name starts with an `o`: any other request (nearly all, each carrying its whole prompt) is
    // sent without parsing its body.
    if (!init.body.includes('"model":"o')) return fetch(input, init);
    let body: unknown;
    try {
      body = JSON.parse(init.body);
    } catch {
      return fetch(input, init);
    }
    if (!isBareRequest(body)) return fetch(input, init);
    return fetch(input, { ...init, body: JSON.stringify({ ...body, max_completion_tokens: maxTokens }) });
  };
}

/** Whether `body` is a chat request for a model Ax sends bare, without a limit of its own. */
function isBareRequest(body: unknown): body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const fields = body as Record<string, unknown>;
  return (
    typeof fields.model === 'string' &&
    BARE_REQUEST_MODELS.has(fields.model) &&
    Array.isArray(fields.messages) &&
    fields.max_completion_tokens === undefined &&
    fields.max_tokens === undefined
  );
}
