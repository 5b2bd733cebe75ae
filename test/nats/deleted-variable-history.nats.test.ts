import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, createMemoryStore, type VariableRecord } from '../../src/index.js';
import { kvStream, kvSubject } from '../../src/nats/kv-bucket.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Defines `x`, writes it `writes` times, deletes it, defines it again and writes it once more. */
async function deleteAfterWrites(session: Awaited<ReturnType<Runtime['session']>>, writes: number): Promise<void> {
  await session.defineVariable('x', 'integer', 0);
  for (let i = 1; i <= writes; i++) await session.setVariable('x', i);
  await session.deleteVariable('x', { updatedBy: 'cleaner' });
  await session.defineVariable('x', 'integer', 100);
  await session.setVariable('x', 101);
}

describe("a deleted variable's history", () => {
  it('leaves the memory store with the delete: only its marker stays, who deleted included', async () => {
    const store = createMemoryStore<VariableRecord>();
    const runtime = await Runtime.start({ store });
    onTestFinished(() => runtime.stop());
    const session = await runtime.session('s');
    await deleteAfterWrites(session, 10);

    const history = await store.history('s.x');
    expect(history.map((change) => [change.operation, change.operation === 'put' ? change.value.value : null])).toEqual(
      [
        ['delete', null],
        ['put', 100],
        ['put', 101],
      ],
    );
    expect(history[0]).toMatchObject({ updatedBy: 'cleaner' });
    expect((await session.variableHistory('x')).map((entry) => entry.value)).toEqual([100, 101]);
  });

  it("leaves a node's bucket with the delete, while every node sees the delete and who made it", async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets);
    const other = await fx().runtime(buckets);
    const watched: unknown[] = [];
    await (
      await other.session('s')
    ).watchVariables('x', (change) => watched.push([change.version, change.deleted ?? false, change.updatedBy]));
    await deleteAfterWrites(await node.session('s'), 10);

    const manager = await nc().jetstreamManager();
    const { state } = await manager.streams.info(kvStream(buckets.variablesBucket), {
      subjects_filter: kvSubject(buckets.variablesBucket, 's.x'),
    });
    // The marker and the two writes of the variable defined again: the eleven before the delete are gone.
    expect(state.subjects).toEqual({ [kvSubject(buckets.variablesBucket, 's.x')]: 3 });
    await waitFor(() => watched.length === 14, { message: 'the other node saw every change' });
    expect(watched.slice(10)).toEqual([
      [11, false, null],
      [12, true, 'cleaner'],
      [1, false, null],
      [2, false, null],
    ]);
    expect((await (await other.session('s')).variableHistory('x')).map((entry) => entry.value)).toEqual([100, 101]);
  });
});
