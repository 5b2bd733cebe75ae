import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import { waitFor } from '../support/wait-for.js';
import { settledCode } from '../support/settled-code.js';

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
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'witness')).variables === 0);
    expect(await storedOfSession(nc(), buckets, 'witness')).toEqual(GONE);
    expect(reads).toBeGreaterThan(5);
    expect(await (await client.session('used', { create: false })).getVariable('x')).toBe(1);

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
    expect(await settledCode(module.execute({ question: 'still?' }))).toBe('noproc');
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
        return { id, handle, acknowledged };
      }),
    );
    // Long enough for every node to scan and every stamp to land.
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const { handle, acknowledged } of written) if (acknowledged) expect(await handle.getVariable('x')).toBe(1);
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
});
