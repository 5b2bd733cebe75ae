import { describe, expect, it } from 'vitest';
import { StoreUnavailableError, type Session } from '../../src/index.js';
import { clusterSkipped, useClusterFixture } from '../support/cluster-fixture.js';
import { waitFor } from '../support/wait-for.js';

const skipped = clusterSkipped('cluster-election.nats.test');

describe.skipIf(skipped)('a deployment on a three-server NATS cluster whose stream leader is lost', () => {
  const { fx, cluster, members, newBuckets, nodeBesideLeader } = useClusterFixture();

  it('rides through an election of the variables stream’s leader: every write and read issued meanwhile succeeds, counts exact', async () => {
    newBuckets();
    const { node: writer, leader } = await nodeBesideLeader();
    const session = await writer.runtime.session('e1');
    const counters = ['c0', 'c1', 'c2'];
    for (const name of counters) await session.defineVariable(name, 'integer', 0);

    // Each loop issues one operation after another through the public API until told to stop; an operation that
    // rejects is a failure (nothing retries it here). Writes: increments, definitions; reads that reach the
    // store: a variable's history, a session opened anew (the sessions bucket, then its variables listed), and a
    // session's deletion (its record's compare-and-set purge, its keys listed and purged, the markers compacted).
    const failures: unknown[] = [];
    const increments = new Map(counters.map((name) => [name, 0]));
    let killedAt: number | undefined;
    let inFlightAtKill = 0;
    let doneAfterKill = 0;
    let running = true;
    const loop = async (operation: (i: number) => Promise<unknown>): Promise<void> => {
      for (let i = 0; running; i++) {
        const started = Date.now();
        try {
          await operation(i);
          if (killedAt !== undefined) {
            doneAfterKill += 1;
            if (started < killedAt) inFlightAtKill += 1;
          }
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const loops = [
      ...counters.map((name) =>
        loop(async () => {
          await session.updateVariable(name, (v) => (v as number) + 1);
          increments.set(name, increments.get(name)! + 1);
        }),
      ),
      loop((i) => session.defineVariable(`d${i}`, 'integer', i)),
      loop(() => session.variableHistory('c0')),
      loop(async (i) => void (await writer.runtime.session(`e1_${i}`))),
      loop(async (i) => {
        const doomed = await writer.runtime.session(`gone_${i}`);
        await doomed.defineVariable('v', 'integer', i);
        await doomed.delete();
      }),
    ];
    await waitFor(() => [...increments.values()].every((n) => n >= 5), { message: 'increments before the kill' });
    killedAt = Date.now();
    await leader.kill();
    // Past the election: every loop has gone on after its operation in flight at the kill.
    await waitFor(() => doneAfterKill >= 60, {
      timeout: 25_000,
      interval: 100,
      message: 'operations after the kill',
    });
    running = false;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    expect(inFlightAtKill).toBeGreaterThan(0);
    for (const name of counters) {
      // The bucket's own record of the variable: one version per increment, each one more than the last.
      const history = await session.variableHistory(name);
      const values = history.map((entry) => entry.value as number);
      expect(values.at(-1), name).toBe(increments.get(name));
      expect(values, name).toEqual(values.map((_, i) => values[0]! + i));
      expect((await session.describeVariable(name)).value).toBe(increments.get(name));
    }

    await leader.restart();
    await cluster().waitHealthy();
  }, 50_000);

  it('fails a write with store_unavailable naming the bucket and key, nothing written, when no leader comes back in time', async () => {
    const buckets = newBuckets();
    const { node: survivor, home } = await nodeBesideLeader({ nats: { unavailableRetryMs: 1500 } });
    const session: Session = await survivor.runtime.session('q1');
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'integer', 2);
    const other: Session = await survivor.runtime.session('q2');
    await other.defineVariable('a', 'integer', 1);
    // Two of three servers gone, the variables stream's leader among them: no quorum, so no leader is elected.
    const others = members().filter((m) => m !== home);
    await Promise.all(others.map((m) => m.kill()));

    const failure = (error: unknown): unknown => error;
    let batch: unknown;
    let single: unknown;
    try {
      // A batch (its commit reads every key first) and a single write (published at once), side by side.
      [batch, single] = await Promise.all([
        session.setVariables({ a: 10, b: 20 }, { atomic: true }).then(() => undefined, failure),
        other.setVariable('a', 5).then(() => undefined, failure),
      ]);
    } finally {
      // Whatever failed, the next test gets its cluster back.
      await Promise.all(others.map((m) => m.restart()));
      await cluster().waitHealthy();
    }
    expect(batch).toBeInstanceOf(StoreUnavailableError);
    expect(batch).toMatchObject({
      code: 'store_unavailable',
      bucket: buckets.variablesBucket,
      outcome: 'not_applied',
    });
    expect((batch as StoreUnavailableError).key).toMatch(/^q1\.[ab]$/);
    expect((batch as StoreUnavailableError).message).toContain(`'${buckets.variablesBucket}'`);
    expect(single).toMatchObject({ code: 'store_unavailable', key: 'q2.a' });
    // Refused (no responders) once the surviving server knows its leader is gone; published to it before it knows
    // (a loaded machine), unanswered, and honestly unknown. Either way nothing was written, as checked below.
    expect(['not_applied', 'unknown']).toContain((single as StoreUnavailableError).outcome);

    // Back again: neither write is in the bucket, the session still has what it had, and it writes again.
    expect((await session.variableHistory('a')).map((entry) => entry.value)).toEqual([1]);
    expect((await session.variableHistory('b')).map((entry) => entry.value)).toEqual([2]);
    expect((await other.variableHistory('a')).map((entry) => entry.value)).toEqual([1]);
    expect((await session.getVariables(['a', 'b'])).found).toEqual({ a: 1, b: 2 });
    expect((await session.setVariable('a', 3)).value).toBe(3);
  }, 50_000);

  it('a remote client with the default timeout (5 s) rides through an outage longer than that: its write lands and it hears so', async () => {
    newBuckets();
    // Long enough for the members to come back and elect, however long that takes on a loaded machine.
    const { home } = await nodeBesideLeader({ nats: { unavailableRetryMs: 30_000 } });
    const client = await fx().client({ servers: home.url });
    const session = await client.session('r1');
    await session.defineVariable('a', 'integer', 1);
    const others = members().filter((m) => m !== home);
    await Promise.all(others.map((m) => m.kill()));

    // Settled at once, read after the outage: a failure meanwhile fails this test instead of going unhandled.
    const writing = session.setVariable('a', 5).then(
      (record) => ({ record }),
      (error: unknown) => ({ error }),
    );
    // No quorum for longer than the client's timeout: the node says it is still at it, and the client waits on.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    await Promise.all(others.map((m) => m.restart()));
    expect(await writing).toMatchObject({ record: { value: 5, version: 2 } });

    await cluster().waitHealthy();
    expect((await session.variableHistory('a')).map((entry) => entry.value)).toEqual([1, 5]);
  }, 60_000);
});
