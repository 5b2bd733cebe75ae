/**
 * Gemini's whole answers (`generateContent`) of HTTP 200 that hold no candidates, which Ax reads into an answer
 * without results and then fails on with a TypeError of its own (reported as Tether's `internal_error`, the provider's
 * words lost):
 * - the refusal of a prompt its safety settings block, `promptFeedback.blockReason`: fails with the
 *   `ContentFilteredError` content-filter.ts describes (`model_answer_invalid`, `content_filter`);
 * - an error object, as a gateway sends with HTTP 200: fails with `AnswerErrorEventError`, which provider-errors.ts
 *   reports as `provider_unavailable` (`malformed_response`), quoting it.
 * Streamed, each is the stream's one event, which answer-stream-check.ts reads alike.
 * @module
 */
import { blockedPromptOf } from './content-filter.js';
import { errorOf } from './answer-stream-check.js';
import { withBody } from './response-body.js';

/** Where Gemini's whole answers are asked for (`…/models/<model>:generateContent`). */
const GEMINI_WHOLE_ANSWER = /:generateContent(?:\?|$)/;

/** `fetch`, with a Gemini whole answer that refuses its prompt or is an error object failing as it stands for. */
export function fetchCheckingGeminiAnswers(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (!response.ok || !response.body || !GEMINI_WHOLE_ANSWER.test(url)) return response;
    const text = await response.text();
    // Parsed here only when it has no candidates to give: Ax parses every answer again anyway.
    if (!text.includes('"candidates"')) {
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = undefined;
      }
      const failure = blockedPromptOf(answer) ?? errorOf(answer);
      if (failure) throw failure;
    }
    return withBody(response, text);
  };
}
