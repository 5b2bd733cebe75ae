import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { MAX_RATE_LIMIT_WAIT_MS, fetchRetryingRateLimits } from '../../src/modules/rate-limit-retry.js';

/**
 * A fetch answering each request with the next of `statuses` (the last one again once they run out); a status may
 * come with its `retry-after`, or with headers of its own.
 */
type Scripted = number | [number, string | Record<string, string>];
function scripted(statuses: readonly Scripted[]) {
  const calls: { body: unknown; at: number }[] = [];
  const fetch = async (_input: unknown, init?: RequestInit): Promise<Response> => {
    const next = statuses[Math.min(calls.length, statuses.length - 1)]!;
    calls.push({ body: init?.body, at: performance.now() });
    const [status, given] = typeof next === 'number' ? [next, undefined] : next;
    const headers = given === undefined ? {} : typeof given === 'string' ? { 'retry-after': given } : given;
    return new Response('{}', { status, headers });
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const request = { method: 'POST', body: '{"model":"m"}' };
const LONG = 300_000;

describe('rate-limited provider requests', () => {
  it('sends the same request again after the wait Retry-After asks, in seconds or as a date, up to its retries', async () => {
    const { calls, fetch } = scripted([[429, '0'], [429, new Date(Date.now() - 1000).toUTCString()], 200]);
    const response = await fetchRetryingRateLimits(2, LONG, fetch)('http://provider/v1', request);
    expect(response.status).toBe(200);
    expect(calls.map((call) => call.body)).toEqual([request.body, request.body, request.body]);

    const limited = scripted([[429, '0']]);
    expect((await fetchRetryingRateLimits(2, LONG, limited.fetch)('http://provider/v1', request)).status).toBe(429);
    expect(limited.calls).toHaveLength(3);
  });

  // Found by a review: '-5' asked for no wait and '0x2' for two seconds.
  it('reads a Retry-After that is neither whole seconds nor a date as none, and waits 1 s', async () => {
    for (const header of ['-5', '0x2', '1.5', 'soon']) {
      const { calls, fetch } = scripted([[429, header], 200]);
      await fetchRetryingRateLimits(1, LONG, fetch)('http://provider/v1', request);
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(990);
    }
  });

  it('answers the 429 at once when the wait is over its longest, past half the time limit, or with no retries', async () => {
    const long = scripted([[429, String(MAX_RATE_LIMIT_WAIT_MS / 1000 + 1)], 200]);
    expect((await fetchRetryingRateLimits(2, LONG, long.fetch)('http://provider/v1', request)).status).toBe(429);
    expect(long.calls).toHaveLength(1);
    // Found by a review: the wait ran into the request's time limit, and the rate limit was told as a timeout.
    const tight = scripted([[429, '2'], 200]);
    expect((await fetchRetryingRateLimits(2, 3000, tight.fetch)('http://provider/v1', request)).status).toBe(429);
    expect(tight.calls).toHaveLength(1);
    const none = scripted([[429, '0'], 200]);
    expect((await fetchRetryingRateLimits(0, LONG, none.fetch)('http://provider/v1', request)).status).toBe(429);
    expect(none.calls).toHaveLength(1);
  });

  it('ends the wait when the request is aborted (a cancel, a timeout), sending nothing more', async () => {
    const { calls, fetch } = scripted([429, 200]);
    const controller = new AbortController();
    const sent = fetchRetryingRateLimits(
      2,
      LONG,
      fetch,
    )('http://provider/v1', { ...request, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('cancelled'));
    await expect(sent).rejects.toThrow('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(calls).toHaveLength(1);
  });

  it('sends a request whose body is a stream once: it cannot be sent again', async () => {
    const { calls, fetch } = scripted([[429, '0'], 200]);
    const body = new ReadableStream({ start: (controller) => controller.close() });
    const response = await fetchRetryingRateLimits(2, LONG, fetch)('http://provider/v1', { method: 'POST', body });
    expect(response.status).toBe(429);
    expect(calls).toHaveLength(1);
  });

  /**
   * The times after the first request at which `statuses` are each asked, on a fake clock (setTimeout and
   * performance.now), so that waits of seconds are measured to the millisecond without being waited.
   */
  async function sendTimes(statuses: readonly Scripted[], retries: number): Promise<number[]> {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    onTestFinished(() => void vi.useRealTimers());
    const { calls, fetch } = scripted(statuses);
    let answered = false;
    const sent = fetchRetryingRateLimits(retries, LONG, fetch)('http://provider/v1', request);
    void sent.then(() => void (answered = true));
    // Step through the waits a millisecond at a time, each step past the one where the next request went.
    while (!answered) await vi.advanceTimersByTimeAsync(1);
    const start = calls[0]!.at;
    return calls.map((call) => call.at - start);
  }

  // Found by mutation: waits of 1 s each, or without the 8 s cap, passed every test.
  it('waits 1 s, 2 s, 4 s, then 8 s each time when the provider asks for no wait', async () => {
    const times = await sendTimes([429, 429, 429, 429, 429, 200], 5);
    expect(times.slice(1).map((at, i) => at - times[i]!)).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  // Found by mutation: a wait of exactly the longest could be refused, and 1.5 taken as 1.5 s.
  it('waits a Retry-After of exactly 20 s, and 1 s for one of 1.5', async () => {
    expect(await sendTimes([[429, String(MAX_RATE_LIMIT_WAIT_MS / 1000)], 200], 1)).toEqual([
      0,
      MAX_RATE_LIMIT_WAIT_MS,
    ]);
    expect(await sendTimes([[429, '1.5'], 200], 1)).toEqual([0, 1000]);
  });

  // Found by the provider audit: Azure OpenAI's 429 asks in `retry-after-ms`, which went unread (1 s was waited).
  it('waits what retry-after-ms asks, in milliseconds, before Retry-After, and reads a malformed one as none', async () => {
    expect(await sendTimes([[429, { 'retry-after-ms': '1500', 'retry-after': '2' }], 200], 1)).toEqual([0, 1500]);
    expect(await sendTimes([[429, { 'retry-after-ms': '2.5' }], 200], 1)).toEqual([0, 3]);
    expect(await sendTimes([[429, { 'retry-after-ms': '-5', 'retry-after': '3' }], 200], 1)).toEqual([0, 3000]);
    expect(await sendTimes([[429, { 'retry-after-ms': '1e3' }], 200], 1)).toEqual([0, 1000]);
    // Over the longest wait, in either header, the 429 is the answer at once.
    const long = scripted([[429, { 'retry-after-ms': String(MAX_RATE_LIMIT_WAIT_MS + 1) }], 200]);
    expect((await fetchRetryingRateLimits(2, LONG, long.fetch)('http://provider/v1', request)).status).toBe(429);
    expect(long.calls).toHaveLength(1);
  });
});
