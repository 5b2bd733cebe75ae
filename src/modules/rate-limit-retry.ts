/**
 * A provider's rate limit (HTTP 429) asked again, as OpenAI's own SDK does. Ax retries neither a 429 at the program
 * level (`maxRetries` corrects answers and rides out 5xx) nor, with Tether's `httpRetries` of 0, at the HTTP level,
 * where a retry of its own would also retry every network fault on top of the program level's. So a rate-limited
 * execution failed at once, its `Retry-After` unread. The `fetch` given to Ax here waits what `Retry-After` asks
 * (else 1 s, then 2 s, …) and sends the same request again, a few times; the wait ends with the request's signal
 * (a cancel, Ax's timeout), and a `Retry-After` longer than {@link MAX_RATE_LIMIT_WAIT_MS} is not waited for: the
 * 429 is the answer.
 * @module
 */

/** The longest `Retry-After` waited for: an execution's own timeout (120 s by default) would mostly end first. */
export const MAX_RATE_LIMIT_WAIT_MS = 20_000;

/** The wait `Retry-After` asks for, in ms (seconds, or an HTTP date), or `undefined` when it says none. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function wait(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `fetch`, sending a request answered with a 429 again up to `retries` times (see the module comment). A request
 * whose body cannot be sent twice (a stream) is not: Ax's bodies are strings.
 */
export function fetchRetryingRateLimits(retries: number, fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const resendable = init?.body === undefined || init.body === null || typeof init.body === 'string';
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(input, init);
      if (response.status !== 429 || attempt >= retries || !resendable) return response;
      const ms = retryAfterMs(response.headers.get('retry-after')) ?? 1000 * 2 ** attempt;
      if (ms > MAX_RATE_LIMIT_WAIT_MS) return response;
      // Read by nobody: its connection is let go before the wait.
      await response.body?.cancel().catch(() => {});
      await wait(ms, init?.signal);
    }
  };
}
