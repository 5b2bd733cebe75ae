import { ErrorCode, NatsError } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExecutionAbortedError, NoProcError } from '../../src/errors.js';
import { NO_RESPONDERS_RETRY_MS, rideOutNoResponders } from '../../src/nats/no-responders-ride.js';

/** What the remote client rejects a request with when NATS found no node subscribed. */
const noResponders = (): NoProcError =>
  new NoProcError('tether.v1.session.s.var.set', { cause: NatsError.errorForCode(ErrorCode.NoResponders) });

describe('riding out no responders', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  it('sends again while no node is subscribed, each time with what is left of the timeout', async () => {
    const given: number[] = [];
    const ride = rideOutNoResponders(
      1000,
      () => true,
      async (leftMs) => {
        given.push(leftMs);
        if (given.length < 3) throw noResponders();
        return 'answered';
      },
    );
    await vi.advanceTimersByTimeAsync(2 * NO_RESPONDERS_RETRY_MS);
    expect(await ride).toBe('answered');
    // The request as a whole keeps its timeout: the third send has 500 ms of the 1000 left.
    expect(given).toEqual([1000, 1000 - NO_RESPONDERS_RETRY_MS, 1000 - 2 * NO_RESPONDERS_RETRY_MS]);
  });

  it('fails with noproc at once for a client no node has answered, and on any other error', async () => {
    const attempt = vi.fn(async () => {
      throw noResponders();
    });
    await expect(rideOutNoResponders(5000, () => false, attempt)).rejects.toBeInstanceOf(NoProcError);
    expect(attempt).toHaveBeenCalledTimes(1);
    // A node's own noproc reply (no NATS cause) is an answer: nothing is sent again.
    const answered = vi.fn(async () => {
      throw new NoProcError('tether.module.s.qa');
    });
    await expect(rideOutNoResponders(5000, () => true, answered)).rejects.toBeInstanceOf(NoProcError);
    expect(answered).toHaveBeenCalledTimes(1);
  });

  it('says noproc rather than send again with too little time left to hear that no node is there', async () => {
    const given: number[] = [];
    const ride = rideOutNoResponders(
      560,
      () => true,
      async (leftMs) => {
        given.push(leftMs);
        throw noResponders();
      },
    );
    const failed = expect(ride).rejects.toBeInstanceOf(NoProcError);
    await vi.advanceTimersByTimeAsync(600);
    await failed;
    // A third send at 500 ms would have had 60 ms: it would end as a timeout, as if a node had got the request.
    expect(given).toEqual([560, 310]);
  });

  it('rejects with the abort error at once when the signal fires in the wait between two sends', async () => {
    const attempt = vi.fn(async () => {
      throw noResponders();
    });
    const abort = new AbortController();
    const aborted = (): Error => new ExecutionAbortedError('qa', 'e1', { cause: abort.signal.reason });
    let outcome: unknown;
    rideOutNoResponders(5000, () => true, attempt, { signal: abort.signal, aborted }).catch(
      (error: unknown) => (outcome = error),
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(attempt).toHaveBeenCalledTimes(1);

    abort.abort('changed my mind');
    // No time passes: only what the abort itself set off runs.
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toBeInstanceOf(ExecutionAbortedError);
    expect(outcome).toMatchObject({ cause: 'changed my mind' });
    // Nothing is sent again once the wait would have ended.
    await vi.advanceTimersByTimeAsync(2 * NO_RESPONDERS_RETRY_MS);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('gives up once its timeout has passed with still no node', async () => {
    const attempt = vi.fn(async () => {
      throw noResponders();
    });
    const ride = rideOutNoResponders(600, () => true, attempt);
    const failed = expect(ride).rejects.toBeInstanceOf(NoProcError);
    await vi.advanceTimersByTimeAsync(600);
    await failed;
    // Sent at 0, 250 and 500 ms; another at 750 would be past the timeout.
    expect(attempt).toHaveBeenCalledTimes(3);
  });
});
