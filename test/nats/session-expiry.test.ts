/**
 * The stop of session expiry with its connection down, without a NATS server: it waits for the connection (within
 * the stop's grace) only when it has a stamp to send.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSessionExpiry, type SessionUse } from '../../src/nats/session-expiry.js';
import type { SessionDirectory } from '../../src/nats/session-directory.js';
import type { SessionRemoval } from '../../src/nats/session-removal.js';
import { manualLink } from '../support/manual-link.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Expiry over a directory and a removal that note each call (and find nothing), its link dropped. */
function expiryWhileDown(uses: SessionUse[]) {
  const touched: string[] = [];
  const noted = (key: string | symbol) => () => (touched.push(String(key)), Promise.resolve(undefined));
  const directory = new Proxy({} as SessionDirectory, {
    get: (_target, key) => (key === 'bucket' ? 'sessions' : noted(key)),
  });
  const removal = new Proxy({} as SessionRemoval, { get: (_target, key) => noted(key) });
  const reports: unknown[] = [];
  const { link, back, drop } = manualLink();
  drop();
  const expiry = startSessionExpiry({
    directory,
    removal,
    ttlMs: 3_600_000,
    uses: () => uses.splice(0),
    lost: () => {},
    report: (error) => reports.push(error),
    link,
  });
  return { expiry, touched, reports, back };
}

/** Lets every promise under way settle, no timer firing. */
async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('session-expiry', () => {
  // Found by a review: a node that never opened a session, its NATS server gone, took 7 s to stop, 6 s of it
  // waiting for a connection it had nothing to send on.
  it('stops at once when the connection is down and no use is left to stamp', async () => {
    vi.useFakeTimers();
    const { expiry, touched, reports } = expiryWhileDown([]);
    let stopped = false;
    const stopping = expiry.stop().then(() => (stopped = true));
    await settled();
    const timersLeft = vi.getTimerCount();
    const stoppedBeforeAnyTimer = stopped;
    // The grace is 6 s: the stop ends, for the test's sake, if it waited.
    await vi.advanceTimersByTimeAsync(10_000);
    await stopping;
    expect({ stoppedBeforeAnyTimer, timersLeft }).toEqual({ stoppedBeforeAnyTimer: true, timersLeft: 0 });
    expect(touched).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('waits for the connection when the connection is down and a use is left to stamp', async () => {
    const { expiry, touched, back } = expiryWhileDown([{ sessionId: 's1', lastUsed: 1, incarnation: 'i1' }]);
    let stopped = false;
    const stopping = expiry.stop().then(() => (stopped = true));
    await settled();
    expect(stopped).toBe(false);
    back();
    await stopping;
    // Back, it stamped the use: it read the session's record first (gone, here).
    expect(touched).toContain('read');
  });
});
