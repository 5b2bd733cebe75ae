import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import { waitFor } from '../support/wait-for.js';
import { settledCode } from '../support/settled-code.js';
import type { SessionDirectory } from '../../src/nats/session-directory.js';
import { startSessionExpiry } from '../../src/nats/session-expiry.js';
import { monotonicNow } from '../../src/runtime/idle-clock.js';
import { directoryAndRemoval } from '../support/directory-and-removal.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
/** Small enough to watch sessions expire; nodes stamp each session's use every 100 ms. */
const TTL = { sessionTtlMs: 400, llm: createEchoModel() };
const GONE = { variables: 0, modules: 0, record: 0 };

describe('idle expiry across NATS nodes', () => {
  it('keeps a session used on one node alive, and expires it everywhere once nobody uses it', async () => {
    const buckets = fx().buckets();
    // Node A lets the session's process go soon after each use: its uses still count, and its handle still learns.
    const a = await fx().runtime(buckets, { ...TTL, hibernateAfterMs: 60 });
    const b = await fx().runtime(buckets, TTL);
    const client = await fx().client();
    // Opened before the witness: were its use on node A not counted, it would expire first.
    const used = await a.session('used');
    await used.defineVariable('x', 'integer', 1);
    const onB = await b.session('used');
    const module = await onB.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const heardOnB: unknown[] = [];
    await onB.watchVariables('*', (change) => heardOnB.push(change.newValue));
    await (await client.session('witness')).defineVariable('w', 'integer', 1);

    // Read on node A only, until the witness, idle everywhere, has expired and left nothing behind.
    let reads = 0;
    await waitFor(
      async () => {
        reads += (await used.getVariable('x')) === 1 ? 1 : 0;
        return (await storedOfSession(nc(), buckets, 'witness')).record === 0;
      },
      { timeout: 10_000, interval: 50, message: 'the witness expired' },
    );
    // Read again at once: the session expires 500 ms or more after its last use, and the removal of the witness's
    // variables, waited for next, can take a good part of that on a loaded machine.
    expect(await (await client.session('used', { create: false })).getVariable('x')).toBe(1);
    const remoteUsed = await client.session('used');
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'witness')).variables === 0);
    expect(await storedOfSession(nc(), buckets, 'witness')).toEqual(GONE);
    expect(reads).toBeGreaterThan(5);

    // Now nobody uses it: it expires on every node (node B's process kept up by its watch, node A's hibernated), its
    // watch and module with it, and its storage is reclaimed.
    await waitFor(() => !a.sessionIds().includes('used'), { message: 'the session hibernated on node A' });
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'used')).record === 0, {
      timeout: 10_000,
      message: 'the session expired',
    });
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'used')).variables === 0);
    expect(await storedOfSession(nc(), buckets, 'used')).toEqual(GONE);
    expect(await settledCode(used.getVariable('x'))).toBe('session_expired');
    expect(await settledCode(onB.getVariable('x'))).toBe('session_expired');
    expect(await settledCode(module.execute({ question: 'still?' }))).toBe('session_expired');
    // A remote handle of the expired life hears the same as the embedded ones.
    expect(await settledCode(remoteUsed.getVariable('x'))).toBe('session_expired');
    for (const node of [a, b]) {
      expect(node.sessionIds()).not.toContain('used');
      expect(node.whereis(moduleProcessName('used', 'qa'))).toBeUndefined();
    }
    expect(await settledCode((await client.session('used', { create: false })).getVariable('x'))).toBe(
      'session_not_found',
    );
    // Opened again it is empty, and the old watch hears nothing of it.
    const again = await client.session('used');
    expect(await again.listVariables()).toEqual([]);
    await again.defineVariable('x', 'integer', 2);
    expect(heardOnB).toEqual([]);
  });

  it('never loses an acknowledged write to expiry, even one made just before the session would have expired', async () => {
    const buckets = fx().buckets();
    // Three nodes scan; node A serves every write.
    const [a] = await Promise.all([0, 1, 2].map(() => fx().runtime(buckets, TTL)));
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    const activeAt = async (id: string) => Date.parse((await kv.get(id))!.json<{ activeAt: string }>().activeAt);
    const trials = Array.from({ length: 12 }, (_, i) => `late-${i}`);
    const written = await Promise.all(
      trials.map(async (id, i) => {
        // Started 17 ms apart: the trials meet the nodes' stamps and scans (every 100 ms) at different moments.
        await new Promise((resolve) => setTimeout(resolve, 17 * i));
        const handle = await a!.session(id);
        await handle.defineVariable('x', 'integer', 0);
        // Idle until its record is 475 to 490 ms old (a scan expires it at 500 ms), then written once on node A.
        const since = await waitFor(() => activeAt(id).then((at) => (Date.now() - at < 400 ? at : undefined)), {
          interval: 2,
        });
        await new Promise((resolve) => setTimeout(resolve, since + 475 + (i % 4) * 5 - Date.now()));
        const acknowledged = await handle.setVariable('x', 1).then(
          () => true,
          (error: unknown) => (expect(error).toMatchObject({ code: 'session_expired' }), false),
        );
        if (!acknowledged) return { acknowledged };
        // Long enough for every node to scan and every stamp to land; read then, each trial 150 ms after its own
        // write: after the last trial's, the first one's session would be idle close to the 500 ms that expire it.
        await new Promise((resolve) => setTimeout(resolve, 150));
        return { acknowledged, value: await handle.getVariable('x') };
      }),
    );
    for (const { acknowledged, value } of written) if (acknowledged) expect(value).toBe(1);
    expect(written.some((trial) => trial.acknowledged)).toBe(true);
  });

  it('expires a session that no node has loaded since it started', async () => {
    const buckets = fx().buckets();
    const first = await fx().node(buckets);
    await (await first.runtime.session('left')).defineVariable('x', 'integer', 1);
    await first.stop();
    // A node started afterwards, which never loads the session: its scan of the records finds it.
    await fx().runtime(buckets, TTL);
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'left')).record === 0, {
      timeout: 10_000,
      message: 'the session expired',
    });
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'left')).variables === 0);
  });

  it('judges a record stamped by a clock ahead by when the bucket stored it, and expires it with the idle sessions after it', async () => {
    const buckets = fx().buckets();
    // Written first, so scanned first: a record whose node's clock is an hour ahead.
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    await kv.put('ahead', JSON.stringify({ sessionId: 'ahead', createdAt: ahead, incarnation: 'i', activeAt: ahead }));
    await fx().runtime(buckets, TTL);
    await (await (await fx().client()).session('idle')).defineVariable('x', 'integer', 1);

    await waitFor(async () => (await storedOfSession(nc(), buckets, 'idle')).record === 0, {
      timeout: 10_000,
      message: 'the idle session expired',
    });
    // Not kept until its `activeAt` an hour from now: it was last used no later than the bucket stored it.
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'ahead')).record === 0, {
      timeout: 10_000,
      message: 'the session stamped ahead expired',
    });
  });

  it('expires a backlog of more idle sessions than one scan round takes, in one scan', async () => {
    const buckets = fx().buckets();
    const expired: string[] = [];
    const { directory, removal, close } = await directoryAndRemoval(nc(), buckets, {
      announce: (sessionId, _incarnation, reason) => void (reason === 'expired' && expired.push(sessionId)),
      recheckMs: 1,
    });
    // 300 sessions last used two hours ago: more than a round of a scan removes (256). Their records are written
    // now, so the scan is shown them as the bucket would have stored them then (ages are judged on its clock).
    const TWO_HOURS = 7_200_000;
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    const at = new Date(Date.now() - TWO_HOURS).toISOString();
    const ids = Array.from({ length: 300 }, (_, i) => `idle-${i}`);
    await Promise.all(
      ids.map((id) => kv.put(id, JSON.stringify({ sessionId: id, createdAt: at, incarnation: id, activeAt: at }))),
    );
    const errors: unknown[] = [];
    // A TTL of an hour: the next scan would come 15 minutes after the one `recheck` starts now, so the whole
    // backlog going within this test is the work of that one scan, going on past its first round.
    const storedEarlier: SessionDirectory = {
      ...directory,
      async oldest(sequence) {
        const next = await directory.oldest(sequence);
        if (!next?.found) return next;
        const writtenAt = next.writtenAt - TWO_HOURS;
        return { ...next, writtenAt, found: { ...next.found, writtenAt } };
      },
    };
    const expiry = startSessionExpiry({
      directory: storedEarlier,
      removal,
      ttlMs: 3_600_000,
      uses: () => [],
      lost: () => {},
      report: (error) => errors.push(error),
    });
    try {
      expiry.recheck();
      await waitFor(() => expired.length === ids.length, { timeout: 10_000, message: 'every idle session expired' });
      expect(new Set(expired)).toEqual(new Set(ids));
      expect((await Promise.all(ids.map((id) => directory.read(id)))).filter(Boolean)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await expiry.stop();
      await close();
    }
  });

  it('never expires a session with a TTL of Infinity, and scans only when asked', async () => {
    const buckets = fx().buckets();
    const expired: string[] = [];
    const { directory, removal, close } = await directoryAndRemoval(nc(), buckets, {
      announce: (sessionId, _incarnation, reason) => void (reason === 'expired' && expired.push(sessionId)),
    });
    const at = new Date(Date.now() - 30 * 24 * 3_600_000).toISOString();
    await (
      await nc().jetstream().views.kv(buckets.sessionsBucket)
    ).put('ancient', JSON.stringify({ sessionId: 'ancient', createdAt: at, incarnation: 'ancient', activeAt: at }));
    let scans = 0;
    const errors: unknown[] = [];
    const counted = Object.create(directory, {
      oldest: { value: (from: number) => ((scans += from === 1 ? 1 : 0), directory.oldest(from)) },
    }) as typeof directory;
    const expiry = startSessionExpiry({
      directory: counted,
      removal,
      ttlMs: Infinity,
      uses: () => [],
      lost: () => {},
      report: (error) => errors.push(error),
    });
    try {
      // A timer of Infinity would fire at once, and again every millisecond.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(scans).toBe(0);
      expiry.recheck();
      await waitFor(() => scans === 1, { message: 'the scan recheck asked for' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(expired).toEqual([]);
      expect(await directory.exists('ancient')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await expiry.stop();
      await close();
    }
  });

  it('does not expire a session stamped between the scan that read its record and the removal', async () => {
    const { directory, removal, close } = await directoryAndRemoval(nc(), fx().buckets());
    await removal.open('used');
    const scanned = (await directory.read('used'))!;
    // A node notes a use of it after the scan read the record.
    await directory.stamp(scanned, Date.now() + 1, 1000);

    expect(await removal.expire(scanned)).toBe(false);
    expect(await directory.exists('used')).toBe(true);
    await close();
  });

  it('ends the processes of a session whose record a node finds gone when it stamps its use', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, TTL);
    const session = await node.session('vanished');
    await session.defineVariable('x', 'integer', 1);
    // Removed behind the node's back (its deleting node died before telling anyone): no control message comes.
    await (await nc().jetstream().views.kv(buckets.sessionsBucket)).purge('vanished');

    // Only reads from here on (they count as use, and never read the record): the node's stamp finds it gone.
    await waitFor(async () => (await settledCode(session.getVariable('x'))) === 'session_not_found', {
      timeout: 10_000,
      message: 'the handle learned the session is gone',
    });
    expect(node.sessionIds()).not.toContain('vanished');
  });

  // Found in review: a node that missed the expiry (cut off as another node expired the session) learned of it at its
  // recheck's stamp, which has no record left to judge by, and ended it as deleted: its handles got session_not_found.
  it('ends a session here as expired, not deleted, when its recheck after a cut finds another node expired it', async () => {
    const ttlMs = 1000;
    const buckets = fx().buckets();
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    const at = new Date().toISOString();
    const incarnation = randomUUID();
    await kv.create('idle', JSON.stringify({ sessionId: 'idle', createdAt: at, incarnation, activeAt: at }));
    // This node loaded the session, used it now, and not since.
    const here = await directoryAndRemoval(nc(), buckets);
    const lastUsed = monotonicNow();
    const lost: string[] = [];
    const expiryHere = startSessionExpiry({
      directory: here.directory,
      removal: here.removal,
      ttlMs,
      uses: () => [{ sessionId: 'idle', incarnation, lastUsed }],
      lost: (_sessionId, _incarnation, reason) => lost.push(reason),
      report: () => {},
    });
    // Another node expires it; its control message is what this node misses (none is sent here).
    const other = await directoryAndRemoval(nc(), buckets);
    const expiryThere = startSessionExpiry({
      directory: other.directory,
      removal: other.removal,
      ttlMs,
      uses: () => [],
      lost: () => {},
      report: () => {},
    });
    try {
      await waitFor(async () => (await kv.get('idle'))?.operation !== 'PUT', {
        timeout: 10_000,
        message: 'the idle session expired',
      });
      expect(lost).toEqual([]);
      // Back after the cut: the node reads the record of every session used here.
      expiryHere.recheck();
      await waitFor(() => lost.length > 0, { timeout: 5000, message: 'the node ended the session' });
      // The first is what its handles get (uses() names the session each round, so it may be told again).
      expect(lost[0]).toBe('expired');
    } finally {
      await expiryHere.stop();
      await expiryThere.stop();
      await here.close();
      await other.close();
    }
  }, 30_000);
});
