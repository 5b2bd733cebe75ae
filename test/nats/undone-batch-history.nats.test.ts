import { describe, expect, it } from 'vitest';
import { createNodeStore } from '../../src/nats/node-store.js';
import type { Runtime } from '../../src/node/runtime.js';
import { useNatsFixture, type TestBuckets } from '../support/nats-fixture.js';

const fx = useNatsFixture();

/**
 * An atomic batch on NATS is several compare-and-set writes (kv-commit.ts): when another node moves one of its
 * keys between the batch's check and its writes, the writes that landed are undone by putting the previous
 * record back. Those undone writes and their undo stay in the keys' stream, and a variable's history must not
 * show them: found by the chaos audit (two nodes racing batches over the same variables), whose histories read
 * 517, 518, 517, 518.
 */
describe('history of a variable an undone batch wrote', () => {
  /** A node whose first commit of several writes loses a race to `race()`, run between the batch's check and its writes. */
  async function racedNode(buckets: TestBuckets, race: () => Promise<unknown>): Promise<Runtime> {
    let raced = false;
    const node = await fx().assembledNode(buckets, {
      store: (connection) =>
        createNodeStore(connection, {
          bucket: buckets.variablesBucket,
          onListenerError: () => {},
          onCommitChecked: async (keys) => {
            if (raced || keys.length < 2) return;
            raced = true;
            await race();
          },
        }),
    });
    return node.runtime;
  }

  it('leaves out the write of a batch refused after its undo, and rollback cannot restore it', async () => {
    const buckets = fx().buckets();
    // Another node locks `b` in the race: the batch's write of `a` lands, its write of `b` does not.
    const other = (await fx().assembledNode(buckets)).runtime;
    const node = await racedNode(buckets, async () => (await other.session('s')).lockVariable('b', 'other'));
    const session = await node.session('s');
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'integer', 1);
    await expect(session.setVariables({ a: 2, b: 2 }, { atomic: true })).rejects.toMatchObject({
      code: 'variable_locked',
    });
    expect(await session.describeVariable('a')).toMatchObject({ value: 1, version: 1 });
    const history = await session.variableHistory('a');
    expect(history.map((entry) => [entry.version, entry.value])).toEqual([[1, 1]]);
    await expect(session.rollbackVariable('a', 2)).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await session.getVariable('a')).toBe(1);
  });

  it('shows none of a batch whose writes have not all landed, on any node, until it is whole', async () => {
    const buckets = fx().buckets();
    const other = (await fx().assembledNode(buckets)).runtime;
    const histories: (readonly unknown[])[] = [];
    let firstBatch = true;
    const node = await fx().assembledNode(buckets, {
      store: (connection) =>
        createNodeStore(connection, {
          bucket: buckets.variablesBucket,
          onListenerError: () => {},
          // Between the batch's write of `a` (in the bucket now) and its write of `b`: the history of `a` is read.
          onCommitWrite: async (_key, index) => {
            if (!firstBatch || index !== 1) return;
            firstBatch = false;
            for (const runtime of [other, node.runtime]) {
              const history = await (await runtime.session('s')).variableHistory('a');
              histories.push(history.map((entry) => [entry.version, entry.value]));
            }
          },
        }),
    });
    const session = await node.runtime.session('s');
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'integer', 1);
    // Seen by the other node before the batch (it reads its own view of the session).
    await expect((await other.session('s')).describeVariable('b')).resolves.toMatchObject({ version: 1 });

    await session.setVariables({ a: 2, b: 2 }, { atomic: true });
    expect(histories).toEqual([[[1, 1]], [[1, 1]]]);
    expect((await session.variableHistory('a')).map((entry) => [entry.version, entry.value])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('shows each version once when the batch is written again after its undo', async () => {
    const buckets = fx().buckets();
    // Another node writes `b` in the race: the batch is undone, then planned again on the new `b` and written.
    const other = (await fx().assembledNode(buckets)).runtime;
    const node = await racedNode(buckets, async () => (await other.session('s')).setVariable('b', 100));
    const session = await node.session('s');
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'integer', 1);
    const outcomes = await session.setVariables({ a: 2, b: 2 }, { atomic: true });
    expect(outcomes).toEqual({ a: { ok: true, version: 2 }, b: { ok: true, version: 3 } });
    const history = await session.variableHistory('a');
    expect(history.map((entry) => [entry.version, entry.value])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect((await session.variableHistory('b')).map((entry) => [entry.version, entry.value])).toEqual([
      [1, 1],
      [2, 100],
      [3, 2],
    ]);
  });
});
