/**
 * A node loading a session while another node's batch is between its writes and their undo. The load reads the
 * bucket itself, not through the router whose hold keeps a batch's writes from the sessions until it is whole (or
 * drops them once undone): before, the load took the batch's landed write as the variable's value, and the undo that
 * followed reached the session as a change back to an older version (found by the concurrency fuzzer,
 * test/nats/session-concurrency.nats.test.ts: a node joining mid-run heard a variable's version 6, which was never
 * accepted, then version 5).
 */
import { describe, expect, it } from 'vitest';
import type { VariableChange } from '../../src/index.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('a session loaded while a batch of another node is undone', () => {
  it('never shows the undone write, nor a version going back', async () => {
    const buckets = fx().buckets();
    const racer = await fx().assembledNode(buckets);
    const onRacer = await racer.runtime.session('s');
    const landed = signal();
    const gate = signal();
    let armed = false;
    const writerNode = await fx().assembledNode(buckets, {
      store: (connection) =>
        createNodeStore(connection, {
          bucket: buckets.variablesBucket,
          onListenerError: () => {},
          // Between the batch's check and its writes, another node writes 'y': the batch's write of 'y' fails after
          // its write of 'x' landed, and 'x' is undone.
          onCommitChecked: async () => {
            if (armed) await onRacer.setVariable('y', -1);
          },
          onCommitWrite: async (_key, index) => {
            if (!armed || index !== 1) return;
            armed = false;
            landed.resolve();
            await gate.promise;
          },
        }),
    });
    const listed = signal();
    const loader = await fx().assembledNode(buckets, {
      store: async (connection) => {
        const store = await createNodeStore(connection, { bucket: buckets.variablesBucket, onListenerError: () => {} });
        // The same store, telling when the session's load has read the bucket.
        return Object.assign(Object.create(store) as TrackingStore, {
          list: async (prefix: string) => {
            const entries = await store.list(prefix);
            if (prefix === 's.') listed.resolve();
            return entries;
          },
        });
      },
    });

    const writer = await writerNode.runtime.session('s');
    await writer.defineVariable('x', 'integer', 0);
    await writer.defineVariable('y', 'integer', 0);
    await waitFor(() => onRacer.hasVariable('y'), { message: 'the racer has y' });
    armed = true;
    const batch = writer.setVariables({ x: 1, y: 1 }, { atomic: true });
    await landed.promise;
    // 'x' = 1 is in the bucket, its batch not whole: the loader reads it, then the batch goes on and is undone.
    const loading = loader.runtime.session('s');
    await listed.promise;
    gate.resolve();
    const loaded = await loading;
    const heard: VariableChange[] = [];
    await loaded.watchVariables('x', (change) => void heard.push(change), { includeInitial: true });

    // The batch is written again on what it then reads: 'x' at version 2, 'y' at 3.
    expect(await batch).toEqual({ x: { ok: true, version: 2 }, y: { ok: true, version: 3 } });
    await waitFor(() => heard.at(-1)?.version === 2, { message: 'the loader heard x at version 2' });
    const versions = heard.map((change) => change.version);
    expect(versions, JSON.stringify(heard)).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size, JSON.stringify(heard)).toBe(versions.length);
    expect(heard.at(-1)).toMatchObject({ version: 2, newValue: 1 });
  });
});
