/**
 * A streamed answer that ends before the answer does. A provider's stream says somewhere that it is complete: a
 * finish reason with a value (OpenAI's `finish_reason`, Anthropic's `stop_reason`, Gemini's `finishReason`) or an end
 * marker (OpenAI's `data: [DONE]`, Anthropic's `message_stop`). A stream that closes cleanly with neither was cut
 * off on its way (a proxy or a load balancer closing it), and Ax would take the text so far as the whole answer: a
 * wrong answer given as a result. Read in the raw stream, not in Ax's deltas, where a finish reason Ax does not know
 * (`eos`, `model_length`) is lost. Such a stream fails with {@link AnswerCutOffError}, which provider-errors.ts
 * reports as a connection dropped mid-answer: `provider_unavailable` (`unreachable`).
 * @module
 */
import { withBody } from './response-body.js';

/** What a complete stream holds somewhere (see the module comment). */
const COMPLETE = /"(?:finish_reason|stop_reason|finishReason)"\s*:\s*"|data:\s*\[DONE\]|message_stop/;

/** How much of a chunk's end is kept to be read with the next one: a marker may be split between two. */
const OVERLAP = 64;

/** A streamed answer closed without saying it was complete. */
export class AnswerCutOffError extends Error {
  constructor() {
    super('the answer stream ended before the answer did (no finish reason, no end marker): it was cut off');
    this.name = 'AnswerCutOffError';
  }
}

/** `fetch`, with each event stream it returns failing with {@link AnswerCutOffError} when it ends incomplete. */
export function fetchRefusingCutStreams(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;
    const decoder = new TextDecoder();
    let complete = false;
    let tail = '';
    const checked = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (!complete) {
            const text = tail + decoder.decode(chunk, { stream: true });
            complete = COMPLETE.test(text);
            tail = text.slice(-OVERLAP);
          }
          controller.enqueue(chunk);
        },
        flush(controller) {
          if (!complete) controller.error(new AnswerCutOffError());
        },
      }),
    );
    return withBody(response, checked);
  };
}
