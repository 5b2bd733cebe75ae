/**
 * A streamed answer that ends before the answer does. A provider ends every streamed answer with a finish reason
 * (`stop`, `length`, a tool call…); a stream that closes cleanly without one was cut off on its way (a proxy or a load
 * balancer closing it), and Ax would take the text so far as the whole answer: a wrong answer given as a result.
 * Such a stream fails instead, as a connection dropped mid-answer does: `provider_unavailable` (`unreachable`).
 * @module
 */
import type { AxAIService, AxChatResponse } from '@ax-llm/ax';
import { ProviderUnavailableError } from '../errors.js';

/** Makes the streamed answers of `service` that end without a finish reason fail (see the module comment). */
export function refusingCutStreams(service: AxAIService, provider: string): void {
  const chat = service.chat.bind(service);
  service.chat = async (request, options) => {
    const answer = await chat(request, options);
    if (!(answer instanceof ReadableStream)) return answer;
    let finished = false;
    return answer.pipeThrough(
      new TransformStream<AxChatResponse, AxChatResponse>({
        transform(delta, controller) {
          if (delta.results?.some((result) => result.finishReason !== undefined)) finished = true;
          controller.enqueue(delta);
        },
        flush(controller) {
          if (finished) return;
          const why = 'the answer stream ended before the answer did (no finish reason): it was cut off';
          controller.error(new ProviderUnavailableError(provider, 'unreachable', why));
        },
      }),
    );
  };
}
