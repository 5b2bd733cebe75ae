/**
 * A deadline on the whole of a provider's answer. Ax's `timeout` covers a request until the response's headers
 * arrive, and not its body: a provider that sends its headers and then stalls (mid-stream, or in the middle of a JSON
 * body) held an execution until the module's own timeout, or for ever with none. The `fetch` given to Ax here ends
 * the body too once the request is `timeoutMs` old: reading it fails with {@link AnswerTimeoutError}, which
 * provider-errors.ts reports as `provider_unavailable` (`timeout`), and the connection is let go.
 * @module
 */
import { withBody } from './response-body.js';

/** The provider's answer had not ended `timeoutMs` after its request was sent. */
export class AnswerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the answer had not ended ${timeoutMs} ms after the request`);
    this.name = 'AnswerTimeoutError';
  }
}

/** Statuses whose responses have no body (a `Response` built with one throws). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** `fetch`, with the body of each response ended by {@link AnswerTimeoutError} once its request is `timeoutMs` old. */
export function fetchWithAnswerDeadline(timeoutMs: number, fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const sentAt = performance.now();
    const response = await fetch(input, init);
    if (!response.body || NO_BODY.has(response.status)) return response;
    const reader = response.body.getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Armed at the first read, not when the response arrives: a body nobody reads (a 5xx that Ax's `httpRetries`
    // sends again drops its response unread) must not leave a timer of up to `timeoutMs` holding the process and the
    // response. The deadline still counts from the request's sending.
    const arm = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
      timer = setTimeout(
        () => {
          controller.error(new AnswerTimeoutError(timeoutMs));
          // Let go of the connection: nobody reads the rest.
          reader.cancel().catch(() => {});
        },
        Math.max(0, timeoutMs - (performance.now() - sentAt)),
      );
    };
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (timer === undefined) arm(controller);
          try {
            const { done, value } = await reader.read();
            if (done) {
              clearTimeout(timer);
              controller.close();
            } else controller.enqueue(value);
          } catch (error) {
            clearTimeout(timer);
            // Errored already when the deadline came first: that is what the reader hears.
            try {
              controller.error(error);
            } catch {
              // The stream had ended.
            }
          }
        },
        cancel(reason) {
          clearTimeout(timer);
          return reader.cancel(reason);
        },
      },
      // No read ahead: the stream pulls (and so arms the deadline) only when its reader asks.
      { highWaterMark: 0 },
    );
    return withBody(response, body);
  };
}
