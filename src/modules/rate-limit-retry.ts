/**
 * A provider's rate limit (HTTP 429) asked again, as OpenAI's own SDK does. Ax retries neither a 429 at the program
 * level (`maxRetries` corrects answers and rides out 5xx) nor, with Tether's `httpRetries` of 0, at the HTTP level,
 * where a retry of its own would also retry every network fault on top of the program level's. So a rate-limited
 * execution failed at once, its `Retry-After` unread. The `fetch` given to Ax here waits what the 429 asks (else
 * 1 s, 2 s, 4 s, then 8 s each time) and sends the same request again, a few times: `retry-after-ms` first, which
 * OpenAI and Azure OpenAI send with it in milliseconds (their own SDK reads it first too), else `Retry-After`, in
 * whole seconds or as a date. The 429 is the answer instead when the wait asked for is over
 * {@link MAX_RATE_LIMIT_WAIT_MS}, or would end past half the request's time limit: the last request must have time to
 * be answered, or the rate limit would be reported as a timeout. The wait ends with the request's signal (a cancel,
 * Ax's timeout).
 * @module
 */

/** The longest `Retry-After` waited for: an execution's own timeout (120 s by default) would mostly end first. */
export const MAX_RATE_LIMIT_WAIT_MS = 20_000;

/** The longest wait between tries when the provider asks for none. */
const MAX_BACKOFF_MS = 8_000;

/**
 * The wait `Retry-After` asks for, in ms, or `undefined` when it says none it may: a whole number of seconds, or an
 * HTTP date (a past one is no wait). Anything else (`-5`, `0x2`, `1.5`) is no `Retry-After` at all.
 */
function retryAfterMs(header: string | null): number | undefined {
  const value = header?.trim() ?? '';
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // A date names its day or month in letters; a bare number Date.parse would read as a year.
  const date = /[A-Za-z]/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The wait `retry-after-ms` asks for, or `undefined` when it asks none it may: a number of milliseconds, a fraction
 * allowed (`1500`, `2.5`). Anything else (`-5`, `1e3`, empty) is no `retry-after-ms` at all, and `Retry-After` decides.
 */
function retryAfterMsHeader(header: string | null): number | undefined {
  const value = header?.trim() ?? '';
  return /^\d+(\.\d+)?$/.test(value) ? Math.ceil(Number(value)) : undefined;
}

/** The wait a 429 asks for in its headers, in ms (see the module comment), or `undefined` when it asks none. */
function askedWaitMs(headers: Headers): number | undefined {
  return retryAfterMsHeader(headers.get('retry-after-ms')) ?? retryAfterMs(headers.get('retry-after'));
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
 * `fetch`, sending a request answered with a 429 again up to `retries` times, its waits within half of `timeoutMs`
 * (see the module comment). A request whose body cannot be sent twice (a stream) is not: Ax's bodies are strings.
 */
export function fetchRetryingRateLimits(
  retries: number,
  timeoutMs: number,
  fetch: typeof globalThis.fetch = globalThis.fetch,
) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const resendable = init?.body === undefined || init.body === null || typeof init.body === 'string';
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(input, init);
      if (response.status !== 429 || attempt >= retries || !resendable) return response;
      const asked = askedWaitMs(response.headers);
      const ms = asked ?? Math.min(1000 * 2 ** attempt, MAX_BACKOFF_MS);
      if (ms > MAX_RATE_LIMIT_WAIT_MS || performance.now() - started + ms > timeoutMs / 2) return response;
      // Read by nobody: its connection is let go before the wait.
      await response.body?.cancel().catch(() => {});
      await wait(ms, init?.signal);
    }
  };
}
