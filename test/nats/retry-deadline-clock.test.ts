/**
 * The deadline of a store operation waiting out a JetStream leader election is elapsed time: a system clock stepped
 * back (NTP after a VM resumed) must not make it wait for as long as the step, nor a clock stepped forward end it at
 * once.
 */
import { NatsError, type JetStreamManager } from 'nats';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadlineOf, streamAnswers, unavailableError, type RetryScope } from '../../src/nats/retry-unavailable.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A scope whose stream never answers: every probe is refused for want of a leader (no responders). */
function leaderless(retryMs: number): RetryScope & { probes: number } {
  const scope = {
    bucket: 'b',
    stream: 'KV_b',
    retryMs,
    probes: 0,
    probe: {
      streams: {
        info: () => {
          scope.probes++;
          return Promise.reject(new NatsError('no responders', '503'));
        },
      },
    } as unknown as JetStreamManager,
  };
  return scope;
}

describe("a store operation's wait for its stream", () => {
  it.each([
    ['back an hour', -3_600_000],
    ['forward an hour', 3_600_000],
  ])('lasts its retryMs of elapsed time when the system clock is stepped %s', async (_, stepMs) => {
    vi.useFakeTimers({ toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] });
    const scope = leaderless(2000);
    let answered: boolean | undefined;
    void streamAnswers(scope, deadlineOf(scope)).then((back) => (answered = back));
    await vi.advanceTimersByTimeAsync(100);
    vi.setSystemTime(Date.now() + stepMs);
    await vi.advanceTimersByTimeAsync(1000);
    expect(answered).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(answered).toBe(false);
    expect(scope.probes).toBeGreaterThan(3);
  });

  it('reports how long it waited in whole milliseconds', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const scope = leaderless(300);
    const until = deadlineOf(scope);
    vi.advanceTimersByTime(301.857);
    const error = unavailableError(scope, { operation: 'put', key: 's.n' }, until, 'not_applied', undefined);
    expect(error.waitedMs).toBe(302);
    expect(error.message).toMatch(/had no JetStream leader answering for 302 ms: put of 's.n' gave up/);
  });
});
