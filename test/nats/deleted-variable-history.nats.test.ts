import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, createMemoryStore, type SessionApi, type VariableRecord } from '../../src/index.js';
import { kvStream, kvSubject } from '../../src/nats/kv-bucket.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Defines `x`, writes it `writes` times, deletes it, defines it again and writes it once more. */
async function deleteAfterWrites(session: SessionApi, writes: number): Promise<void> {
  await session.defineVariable('x', 'integer', 0);
  for (let i = 1; i <= writes; i++) await session.setVariable('x', i);
  await session.deleteVariable('x', { updatedBy: 'cleaner' });
  await session.defineVariable('x', 'integer', 100);
  await session.setVariable('x', 101);
}

/** How many messages the variables bucket holds of `s.x`. */
async function messagesOfX(buckets: TestBuckets): Promise<number> {
  const manager = await nc().jetstreamManager();
  const subject = kvSubject(buckets.variablesBucket, 's.x');
  const { state } = await manager.streams.info(kvStream(buckets.variablesBucket), { subjects_filter: subject });
  return state.subjects?.[subject] ?? 0;
}

/** A change as the tests compare them: version, whether it deleted, who made it. */
const seen = (change: { version: number; deleted?: true; updatedBy: string | null }) =>
  [change.version, change.deleted ?? false, change.updatedBy] as const;

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

  it("leaves a node's bucket some time after the delete, once every node that watched has heard it", async () => {
    const buckets = fx().buckets();
    const node = await fx().assembledNode(buckets, {
      store: (connection) =>
        createNodeStore(connection, {
          bucket: buckets.variablesBucket,
          onListenerError: () => {},
          removalDelayMs: 300,
        }),
    });
    const other = await fx().runtime(buckets);
    const watched: unknown[] = [];
    await (await other.session('s')).watchVariables('x', (change) => watched.push(seen(change)));
    await deleteAfterWrites(await node.runtime.session('s'), 10);

    // Still there right after the delete: eleven writes, the marker, the two of the variable defined again.
    expect(await messagesOfX(buckets)).toBe(14);
    await waitFor(async () => (await messagesOfX(buckets)) === 3, { message: 'only the marker and after are kept' });
    await waitFor(() => watched.length === 14, { message: 'the other node heard every change' });
    expect(watched.slice(10)).toEqual([
      [11, false, null],
      [12, true, 'cleaner'],
      [1, false, null],
      [2, false, null],
    ]);
    expect((await (await other.session('s')).variableHistory('x')).map((entry) => entry.value)).toEqual([100, 101]);
  });

  it('stays long enough for a node cut off for a moment to hear every write of it once back', async () => {
    const buckets = fx().buckets();
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const node = await fx().runtime(buckets);
    const behind = await fx().runtime(buckets, { servers: proxy.url });
    const writer = await node.session('s');
    await writer.defineVariable('marker', 'integer', 0);
    const heard: string[] = [];
    await (
      await behind.session('s')
    ).watchVariables('*', (change) =>
      heard.push(`${change.name}@${change.version}${change.deleted ? ' deleted' : ''}`),
    );

    proxy.cut();
    await writer.defineVariable('x', 'integer', 0);
    for (let i = 1; i <= 3; i++) await writer.setVariable('x', i);
    await writer.deleteVariable('x');
    await writer.setVariable('marker', 1);
    proxy.restore();

    await waitFor(() => heard.includes('marker@2'), { message: 'the node caught up', timeout: 20_000 });
    expect(heard).toEqual(['x@1', 'x@2', 'x@3', 'x@4', 'x@5 deleted', 'marker@2']);
  }, 30_000);
});
