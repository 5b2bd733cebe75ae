/**
 * An answer the provider's content filter stopped, or a prompt it blocked, fails with {@link ContentFilteredError},
 * which provider-errors.ts reports as `model_answer_invalid` (`content_filter`): neither the node's nor the
 * provider's fault, and another wording of the request may do. Sent again as it is, it would be stopped again.
 *
 * Each provider says so its own way, and Ax passes each on differently:
 * - OpenAI's `finish_reason: "content_filter"`: Ax names it with the finish reason `content_filter` (`error` for an
 *   OpenAI stream), then takes a whole answer's fragment as the answer (a wrong answer given as a result) and fails a
 *   streamed one with a bare `Error('Streaming response failed')`, said as Tether's own fault.
 * - Gemini's `finishReason` `SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`, `BLOCKLIST` or `SPII`, and Anthropic's
 *   `stop_reason: "refusal"` (its safety classifiers): Ax throws an `AxAIRefusalError`, which its generate loop takes
 *   for an answer to correct, sending the stopped prompt again `maxRetries` times, to fail as `invalid`.
 * - Gemini's blocked prompt, `{ "promptFeedback": { "blockReason": ... } }` without candidates: Ax makes an answer
 *   without results of it, so it is read from the answer itself ({@link blockedPromptOf}, which
 *   gemini-answer-check.ts and answer-stream-check.ts call).
 * - Azure OpenAI's refusal of a prompt its filter blocks, HTTP 400 with `error.code: "content_filter"` (its
 *   `innererror.code` `ResponsibleAIPolicyViolation`): Ax fails it as any HTTP error, so provider-errors.ts asks
 *   {@link filteredPromptOf} of every 400.
 * OpenAI's own `message.refusal` is the model's refusal, not a filter's: it stays an answer to correct (`invalid`).
 * @module
 */
import { AxAIRefusalError, AxAIServiceNetworkError, type AxAIService, type AxChatResponse } from '@ax-llm/ax';
import { AnswerVerdictError } from './answer-verdict.js';

/** The provider's content filter stopped an answer, or blocked the prompt. */
export class ContentFilteredError extends AnswerVerdictError {
  constructor(what = 'the answer') {
    super(`the provider's content filter stopped ${what}`);
    this.name = 'ContentFilteredError';
  }
}

/** How Ax words the refusals it makes of Gemini's filter finish reasons (google-gemini/api.ts). */
const GEMINI_FILTER_REFUSAL = /^Content was blocked due to /;

/**
 * Makes `service` (of provider `provider`) fail, with {@link ContentFilteredError}, each answer its provider's content
 * filter stopped, and with the verdict itself each answer the fetch given to Ax found another verdict in (see
 * answer-verdict.ts).
 */
export function refusingFilteredAnswers(service: AxAIService, provider: string): void {
  const chat = service.chat.bind(service);
  const asFiltered = (error: unknown): unknown => {
    if (isFilterRefusal(error, provider)) return filterError(error);
    // Read from the answer by the fetch given to Ax (gemini-answer-check.ts, answer-stream-check.ts,
    // finish-reasons.ts), which Ax hands on as a failure of the network, to send again: thrown from here, as the
    // others are, it is the answer.
    const read = (error as { originalError?: unknown } | null)?.originalError;
    return error instanceof AxAIServiceNetworkError && read instanceof AnswerVerdictError ? read : error;
  };
  service.chat = async (request, options) => {
    let response: Awaited<ReturnType<typeof chat>>;
    try {
      response = await chat(request, options);
    } catch (error) {
      throw asFiltered(error);
    }
    if (!(response instanceof ReadableStream)) {
      // An answer without results (JSON of another shape) would fail in Ax on a TypeError of its own: said as Ax's
      // check of an answer says it, it is a malformed answer (provider-errors.ts).
      if (!Array.isArray(response.results)) throw new Error('Chat response results are missing from the answer');
      if (filtered(response)) throw new ContentFilteredError();
      return response;
    }
    // Read through rather than piped: an error of the source (Ax's refusal of a filtered chunk) must be translated,
    // and a pipe hands it on as it is.
    const reader = response.getReader();
    return new ReadableStream<AxChatResponse>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else if (filtered(value)) controller.error(new ContentFilteredError());
          else controller.enqueue(value);
        } catch (error) {
          controller.error(asFiltered(error));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
  };
}

/** The error of a filter's refusal, keeping Ax's for its words. */
function filterError(refusal: unknown): ContentFilteredError {
  const error = new ContentFilteredError();
  error.cause = refusal;
  return error;
}

/** Whether `error` is Ax's refusal of an answer `provider`'s content filter stopped. */
function isFilterRefusal(error: unknown, provider: string): boolean {
  if (!(error instanceof AxAIRefusalError)) return false;
  if (provider === 'anthropic') return true;
  return GEMINI_FILTER_REFUSAL.test(error.refusalMessage);
}

/**
 * Whether a result of `response` ended at the content filter (`error` is only Ax's name of it in OpenAI streams). An
 * answer without results (a Gemini answer without candidates) is none: Ax's own check of it says what it lacks.
 */
function filtered(response: AxChatResponse): boolean {
  return (
    response.results?.some((result) => result.finishReason === 'content_filter' || result.finishReason === 'error') ??
    false
  );
}

/**
 * The error a provider's answer, as JSON, stands for when it is Gemini's refusal of the prompt itself (`promptFeedback`
 * with a `blockReason`, and no candidates); `undefined` for any other.
 */
export function blockedPromptOf(answer: unknown): ContentFilteredError | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const { promptFeedback, candidates } = answer as { promptFeedback?: unknown; candidates?: unknown };
  if (Array.isArray(candidates) && candidates.length > 0) return undefined;
  const reason = (promptFeedback as { blockReason?: unknown } | null | undefined)?.blockReason;
  return typeof reason === 'string' && reason !== '' ? new ContentFilteredError(`the prompt (${reason})`) : undefined;
}

/**
 * The error an HTTP error of `status` with the provider's error `body` stands for when it is Azure OpenAI's refusal
 * of a prompt its content filter blocks (a 400 whose `error.code` is `content_filter`, or whose `error.innererror.code`
 * is `ResponsibleAIPolicyViolation`, as a gateway in front of Azure passes it on too); `undefined` for any other.
 */
export function filteredPromptOf(status: number, body: unknown): ContentFilteredError | undefined {
  if (status !== 400 || typeof body !== 'object' || body === null) return undefined;
  const { error } = body as { error?: unknown };
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, innererror } = error as { code?: unknown; innererror?: unknown };
  const inner = (innererror as { code?: unknown } | null | undefined)?.code;
  if (code !== 'content_filter' && inner !== 'ResponsibleAIPolicyViolation') return undefined;
  return new ContentFilteredError(`the prompt (${typeof inner === 'string' ? inner : 'content_filter'})`);
}
