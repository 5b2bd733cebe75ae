/**
 * Idle expiry judges sessions on the JetStream server's clock (src/nats/server-clock.ts), never on a node's wall
 * clock: a node whose clock is off, or is stepped by NTP, neither expires sessions in use nor keeps idle ones.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSessionExpiry, type SessionUse } from '../../src/nats/session-expiry.js';
import { monotonicNow } from '../../src/runtime/idle-clock.js';
import { startNode } from '../support/cli-process.js';
import { directoryAndRemoval } from '../support/directory-and-removal.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  vi.useRealTimers();
});

/** A `tether serve` node in a process of its own on `buckets`, its wall clock `offsetMs` off (the rest is real). */
async function nodeWithClockOff(buckets: TestBuckets, ttlMs: number, offsetMs: number) {
  const node = startNode(
    [
      '--import',
      'tsx',
      '--import',
      './test/support/clock-offset.mjs',
      'src/cli/main.ts',
      'serve',
      '--nats',
      fx().server.url,
      '--session-ttl',
      String(ttlMs),
      '--buckets',
      `${buckets.variablesBucket},${buckets.sessionsBucket},${buckets.modulesBucket}`,
    ],
    { cwd: ROOT, env: { CLOCK_OFFSET_MS: String(offsetMs) } },
  );
  await node.until('stdout', /node serving on/);
  return node;
}

/**
 * Writes the record of session `sessionId` as a node whose wall clock is `aheadMs` ahead opens it (ahead, its last use
 * counts from when the bucket stored it); resolves to the life it began.
 */
async function openedElsewhere(buckets: TestBuckets, sessionId: string, aheadMs = 0): Promise<string> {
  const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
  const at = new Date(Date.now() + aheadMs).toISOString();
  const incarnation = randomUUID();
  await kv.create(sessionId, JSON.stringify({ sessionId, createdAt: at, incarnation, activeAt: at }));
  return incarnation;
}

/** How long after `since` (`performance.now()`) the record of session `sessionId` was removed, polled until then. */
async function removedAfter(buckets: TestBuckets, sessionId: string, since: number): Promise<number> {
  const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
  await waitFor(async () => (await kv.get(sessionId))?.operation !== 'PUT', {
    timeout: 20_000,
    interval: 50,
    message: `session '${sessionId}' expired`,
  });
  return performance.now() - since;
}

/**
 * The session expiry of a node just started on `buckets` (it never wrote the sessions bucket), on a directory of its
 * own, whose stamping rounds note `uses`; `errors` collects what it reports and the sessions it loses.
 */
async function expiryOfNewNode(buckets: TestBuckets, ttlMs: number, uses: () => SessionUse[] = () => []) {
  const { directory, removal, close } = await directoryAndRemoval(nc(), buckets);
  const errors: unknown[] = [];
  const expiry = startSessionExpiry({
    directory,
    removal,
    ttlMs,
    uses,
    lost: (sessionId) => errors.push(`lost ${sessionId}`),
    report: (error) => errors.push(error),
  });
  return { expiry, errors, close };
}

describe('session expiry on the server clock', () => {
  // Found by a review: a node whose clock was ahead by about the TTL expired sessions other nodes were writing to.
  it('does not expire a session that another node is writing to all the time, when one node clock is ahead', async () => {
    const TTL = 4000; // P = 1000 ms
    const buckets = fx().buckets();
    // Another node scans the same buckets, its clock 1.5 TTL ahead (90 minutes with the default TTL of an hour). It
    // starts first: its process can take longer than the TTL to start on a loaded machine, while the session is idle.
    await nodeWithClockOff(buckets, TTL, 1.5 * TTL);
    const a = await fx().runtime(buckets, { sessionTtlMs: TTL });
    const session = await a.session('busy');
    await session.defineVariable('n', 'integer', 0);

    // Written on node A every 100 ms for longer than TTL + 3P: never idle for a moment.
    let acknowledged = 0;
    const until = Date.now() + TTL + 3000;
    while (Date.now() < until) {
      const code = await settledCode(session.setVariable('n', acknowledged + 1));
      expect(code).toBe('resolved');
      acknowledged += 1;
      await sleep(100);
    }
    expect(await session.getVariable('n')).toBe(acknowledged);
    expect((await storedOfSession(nc(), buckets, 'busy')).record).toBe(1);
  }, 60_000);

  // Found by a review: a hibernated session's last use, stamped on the wall clock, aged by a forward NTP step.
  it('does not expire a session used a moment ago when NTP steps a lagging clock forward', async () => {
    const TTL = 4000; // P = 1000 ms
    // Only the wall clock is faked, running at real speed: timers, sockets and performance.now() are real. It is
    // behind by two TTLs when the node starts (two hours with the default TTL: a hardware clock kept in local time).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() - 2 * TTL);
    const buckets = fx().buckets();
    // Idle sessions hibernate after 500 ms: their variables stay, the next use wakes them.
    const node = await fx().runtime(buckets, { sessionTtlMs: TTL, hibernateAfterMs: 500 });
    const session = await node.session('recent');
    await session.defineVariable('n', 'integer', 1);
    await session.setVariable('n', 2);
    // Idle for 1.5 P (a stamping round has noted the write), far from its TTL: hibernated by now.
    await sleep(1500);
    expect(node.sessionIds()).not.toContain('recent');

    vi.setSystemTime(Date.now() + 2 * TTL);

    // Last used 1.5 s ago on a TTL of 4 s: still there 2 s later, its write kept.
    await sleep(2000);
    expect((await storedOfSession(nc(), buckets, 'recent')).record).toBe(1);
    expect(await session.getVariable('n')).toBe(2);
  }, 30_000);

  // Found by a review: records stamped while the clock ran ahead were kept for as long as the clock had been ahead.
  it('expires an idle session within TTL + 3P of its last use after NTP steps a clock that ran ahead back', async () => {
    const TTL = 1000; // P = 250 ms: expired 1.25 to 1.75 s after its last use
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    // An hour ahead while the node starts and the session is used.
    vi.setSystemTime(Date.now() + 3_600_000);
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { sessionTtlMs: TTL });
    const session = await node.session('left');
    await session.defineVariable('n', 'integer', 1);
    const lastUse = performance.now();
    await sleep(300);

    // NTP steps it back to the right time; nobody uses the session any more.
    vi.setSystemTime(Date.now() - 3_600_000);

    await waitFor(async () => (await storedOfSession(nc(), buckets, 'left')).record === 0, {
      timeout: 6000,
      message: 'the idle session expired',
    });
    // TTL + 3P, and a second for the removal and this test's polling on a loaded machine.
    expect(performance.now() - lastUse).toBeLessThan(TTL + 3 * (TTL / 4) + 1000);
  }, 30_000);

  // Found by a review: the stamp before the write compared the record with the bucket's last write, that record's own.
  it('keeps a session for TTL + P after a write on a node that never wrote the sessions bucket', async () => {
    const TTL = 4000; // P = 1000 ms: expired 5 to 7 s after its last use
    const P = TTL / 4;
    const buckets = fx().buckets();
    // Node B scans.
    await fx().runtime(buckets, { sessionTtlMs: TTL });
    // The bucket's last write: nobody writes it for 3.5 s, until the session is 1.5 s away from expiring.
    const incarnation = await openedElsewhere(buckets, 'late', 1000);
    await sleep(TTL + P - 1500);

    // Node A, just started, is to serve a write: first what a node does before (SessionExpiry.fresh). Its stamping
    // rounds, which note the uses served, are left out (it reports none): a scan may come before the next one.
    const { expiry: a, errors, close } = await expiryOfNewNode(buckets, TTL);
    try {
      const servedFrom = performance.now();
      await a.fresh('late', incarnation);

      // The write served here is the session's last use: it expires no sooner than TTL + P after it.
      expect(await removedAfter(buckets, 'late', servedFrom)).toBeGreaterThanOrEqual(TTL + P);
      expect(errors).toEqual([]);
    } finally {
      await a.stop();
      await close();
    }
  }, 30_000);

  // Found by a review: a read before a node's first stamping round was told on the estimate read at that round, which
  // lagged by the bucket's quiet spell, and kept so: it never counted.
  it('keeps a session for TTL + P after a read on a node just started on a bucket nobody wrote for a while', async () => {
    const TTL = 4000; // P = 1000 ms: expired 5 to 7 s after its last use
    const P = TTL / 4;
    const buckets = fx().buckets();
    // Node B scans.
    await fx().runtime(buckets, { sessionTtlMs: TTL });
    // The bucket's last write: nobody writes it for 2.5 s.
    await openedElsewhere(buckets, 'quiet');
    await sleep(2500);

    // Node A starts, and a user reads the session through it before A's first stamping round.
    const a = await fx().runtime(buckets, { sessionTtlMs: TTL });
    const session = await a.session('quiet');
    const readFrom = performance.now();
    expect(await session.listVariables()).toEqual([]);

    // The read is the session's last use: it expires no sooner than TTL + P after it.
    expect(await removedAfter(buckets, 'quiet', readFrom)).toBeGreaterThanOrEqual(TTL + P);
  }, 30_000);

  /** The writes the sessions bucket has stored so far: its stream's last sequence. */
  async function sessionsWrites(buckets: TestBuckets): Promise<number> {
    const manager = await nc().jetstreamManager();
    return (await manager.streams.info(`KV_${buckets.sessionsBucket}`)).state.last_seq;
  }

  /**
   * `count` sessions opened by another node `idleMs` ago, and the expiry of a node just started on them (it never wrote
   * the bucket) whose stamping rounds report `uses` once; by default a TTL long enough that no round comes by itself.
   */
  async function freshNodeOn(
    count: number,
    uses: (lives: Map<string, string>) => SessionUse[] = () => [],
    { ttlMs = 60_000, idleMs = 20 } = {},
  ) {
    const buckets = fx().buckets();
    const lives = new Map<string, string>();
    for (let i = 0; i < count; i++) lives.set(`s${i}`, await openedElsewhere(buckets, `s${i}`));
    await sleep(idleMs);
    let reported = false;
    const node = await expiryOfNewNode(buckets, ttlMs, () => (reported ? [] : ((reported = true), uses(lives))));
    return { buckets, lives, ...node };
  }

  // Found by a review: each stamp that began before the first write was read back made the clock exact again itself
  // (one more write each, and a read), where one write does it for all.
  it('makes the clock exact with one write for the first writes to many sessions at once on a node', async () => {
    // TTL 4 s: P = 1 s, and a write is stamped first after an idle spell of TTL - 2P = 2 s. The rounds find no use and
    // no session to expire (they are TTL + P = 5 s idle at the earliest): they write nothing.
    const { buckets, lives, expiry, errors, close } = await freshNodeOn(12, undefined, { ttlMs: 4000, idleMs: 2100 });
    try {
      const before = await sessionsWrites(buckets);
      await Promise.all([...lives].map(([sessionId, incarnation]) => expiry.fresh(sessionId, incarnation)));
      // A stamp per session, and one write of a record again, read back: not one per stamp.
      expect((await sessionsWrites(buckets)) - before).toBe(12 + 1);
      expect(errors).toEqual([]);
    } finally {
      await expiry.stop();
      await close();
    }
  }, 30_000);

  it("makes the clock exact with one write in a node's first stamping round of many sessions", async () => {
    // Used here since they were opened, and reported at the round.
    const { buckets, expiry, errors, close } = await freshNodeOn(12, (lives) =>
      [...lives].map(([sessionId, incarnation]) => ({ sessionId, incarnation, lastUsed: monotonicNow() })),
    );
    try {
      const before = await sessionsWrites(buckets);
      // A stop notes the uses one more time: here the first stamping round, eight stamps at a time.
      await expiry.stop();
      expect((await sessionsWrites(buckets)) - before).toBe(12 + 1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 30_000);

  // Found in review: a node that had just opened a session (its own write, which reading back makes the clock exact)
  // wrote its record again to make the clock exact, then stamped it, young as it was: 3 writes for an open and a write.
  it('makes the clock exact without a write, and stamps nothing, for a first write to a session the node just opened', async () => {
    const buckets = fx().buckets();
    // P = 15 s: no stamping round comes during the test.
    const node = await fx().runtime(buckets, { sessionTtlMs: 60_000 });
    const session = await node.session('fresh');
    expect(await sessionsWrites(buckets)).toBe(1);
    await session.defineVariable('n', 'integer', 0);
    expect(await sessionsWrites(buckets)).toBe(1);
  }, 30_000);
});
