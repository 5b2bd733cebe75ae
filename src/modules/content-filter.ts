/**
 * An answer the provider's content filter stopped (OpenAI's `finish_reason: "content_filter"`, Anthropic's
 * `stop_reason: "refusal"`): Ax names it with the finish reason `content_filter` (`error` for an OpenAI stream), then
 * takes a whole answer's fragment as the answer, a wrong answer given as a result, and fails a streamed one with a
 * bare `Error('Streaming response failed')`, which said nothing of a filter and was reported as Tether's own fault.
 * Both fail instead with {@link ContentFilteredError}, which provider-errors.ts reports as `model_answer_invalid`
 * (`content_filter`): neither the node's nor the provider's fault, and another wording of the request may do.
 * @module
 */
import type { AxAIService, AxChatResponse } from '@ax-llm/ax';

/** The provider's content filter stopped an answer. */
export class ContentFilteredError extends Error {
  constructor() {
    super("the provider's content filter stopped the answer");
    this.name = 'ContentFilteredError';
  }
}

/** Makes `service` fail, with {@link ContentFilteredError}, each answer its provider's content filter stopped. */
export function refusingFilteredAnswers(service: AxAIService): void {
  const chat = service.chat.bind(service);
  service.chat = async (request, options) => {
    const response = await chat(request, options);
    if (!(response instanceof ReadableStream)) {
      if (filtered(response)) throw new ContentFilteredError();
      return response;
    }
    return response.pipeThrough(
      new TransformStream<AxChatResponse, AxChatResponse>({
        transform(delta, controller) {
          if (filtered(delta)) controller.error(new ContentFilteredError());
          else controller.enqueue(delta);
        },
      }),
    );
  };
}

/** Whether a result of `response` ended at the content filter (`error` is only Ax's name of it in OpenAI streams). */
function filtered(response: AxChatResponse): boolean {
  return response.results.some((result) => result.finishReason === 'content_filter' || result.finishReason === 'error');
}
