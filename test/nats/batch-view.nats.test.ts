import { afterEach, describe, expect, it } from 'vitest';
import { COMMIT_HOLD_MS } from '../../src/nats/commit-holdback.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import type { CommitCheckedHook } from '../../src/nats/kv-commit.js';
import type { AssembledNode } from '../support/assembled-node.js';
import { useNatsFixture, type TestBuckets } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * An atomic batch on NATS is one compare-and-set write per key (kv-commit.ts). Every node's router holds a batch's
 * writes until all of them arrived and drops those its undo reverts (commit-holdback.ts), so watchers, reads and
 * read-your-writes waits on any node see a batch whole or not at all. Found by the chaos audit: a watcher on
 * another node saw version 2, then 1 (the undo), then 2 again.
 */

/** Stops the first armed batch before its second write, after its first one landed. */
class Gate {
  #armed = false;
  #reached!: () => void;
  #open!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.#reached = resolve));
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));

  arm(): void {
    this.#armed = true;
  }
  open(): void {
    this.#open();
  }
  readonly hook = async (_key: string, index: number): Promise<void> => {
    if (!this.#armed || index !== 1) return;
    this.#armed = false;
    this.#reached();
    await this.#opened;
  };
}

const gates: Gate[] = [];
// A batch left waiting must not keep its node from stopping.
afterEach(() => gates.splice(0).forEach((gate) => gate.open()));

/**
 * How long the routers of most tests hold a commit: longer than any test, so that what a test sees while a batch is
 * stopped midway does not depend on how fast the machine is. The bound itself has a test of its own.
 */
const HOLD_FOR_EVER_MS = 3_600_000;

async function nodeWith(
  buckets: TestBuckets,
  hooks: { onCommitWrite?: Gate['hook']; onCommitChecked?: CommitCheckedHook; commitHoldMs?: number } = {},
): Promise<AssembledNode> {
  return fx().assembledNode(buckets, {
    store: (connection) =>
      createNodeStore(connection, {
        bucket: buckets.variablesBucket,
        onListenerError: () => {},
        commitHoldMs: HOLD_FOR_EVER_MS,
        ...hooks,
      }),
  });
}

type Seen = [name: string, value: unknown, version: number][];

/** Everything `node`'s watchers of session `id` hear from now on. */
async function watch(node: AssembledNode, id: string): Promise<Seen> {
  const seen: Seen = [];
  const session = await node.runtime.session(id);
  session.watchVariables('*', (change) => void seen.push([change.name, change.newValue, change.version]));
  return seen;
}

/**
 * Writes `m` of session `t` through `writer` and waits until every node's watcher of `t` heard it: each router
 * has then handed on (or held) everything before it.
 */
async function markerThrough(writer: AssembledNode, watchers: readonly Seen[], value: number): Promise<number> {
  await (await writer.runtime.session('t')).setVariable('m', value);
  await waitFor(() => watchers.every((seen) => seen.some(([name, v]) => name === 'm' && v === value)));
  return (await writer.store.get('t.m'))!.revision;
}

/**
 * Nodes A (writing batches through `gate`) and B, with `a`, `b` of `s` and `m` of `t` at 1, watched on both; their
 * routers hold a commit for `commitHoldMs`.
 */
async function twoNodes(commitHoldMs = HOLD_FOR_EVER_MS) {
  const buckets = fx().buckets();
  const gate = new Gate();
  gates.push(gate);
  const a = await nodeWith(buckets, { onCommitWrite: gate.hook, commitHoldMs });
  const b = await nodeWith(buckets, { commitHoldMs });
  const writer = await a.runtime.session('s');
  await writer.defineVariable('a', 'integer', 1);
  await writer.defineVariable('b', 'integer', 1);
  await (await a.runtime.session('t')).defineVariable('m', 'integer', 0);
  const markers = [await watch(a, 't'), await watch(b, 't')];
  await markerThrough(a, markers, 1);
  return { gate, a, b, writer, seenA: await watch(a, 's'), seenB: await watch(b, 's'), markers };
}

describe('an atomic batch as every node sees it', () => {
  it('reaches watchers on every node whole: none sees the first write while the second is not written', async () => {
    const { gate, a, b, writer, seenA, seenB, markers } = await twoNodes();
    gate.arm();
    const batch = writer.setVariables({ a: 2, b: 2 }, { atomic: true });
    await gate.reached;
    // The batch's write of `a` is in the bucket, and both routers are past it.
    expect((await b.store.get('s.a'))!.value).toMatchObject({ value: 2, version: 2 });
    await markerThrough(b, markers, 2);
    expect(seenA).toEqual([]);
    expect(seenB).toEqual([]);
    expect(await (await b.runtime.session('s')).getVariables(['a', 'b'])).toEqual({
      found: { a: 1, b: 1 },
      missing: [],
    });
    gate.open();
    expect(await batch).toEqual({ a: { ok: true, version: 2 }, b: { ok: true, version: 2 } });
    await waitFor(() => seenA.length === 2 && seenB.length === 2);
    expect(seenA).toEqual([
      ['a', 2, 2],
      ['b', 2, 2],
    ]);
    expect(seenB).toEqual(seenA);
    expect(await (await a.runtime.session('s')).getVariables(['a', 'b'])).toMatchObject({ found: { a: 2, b: 2 } });
  });

  it('keeps a raced batch and its undo from every watcher: after the retry each version comes once, in order', async () => {
    const buckets = fx().buckets();
    let raced = false;
    // Another node writes `b` between the batch's check and its writes: `a` lands, `b` does not, `a` is undone.
    const other = await nodeWith(buckets);
    const writerNode = await nodeWith(buckets, {
      onCommitChecked: async (keys) => {
        if (raced || keys.length < 2) return;
        raced = true;
        await (await other.runtime.session('s')).setVariable('b', 100);
      },
    });
    const third = await nodeWith(buckets);
    const nodes = [writerNode, other, third];
    const writer = await writerNode.runtime.session('s');
    await writer.defineVariable('a', 'integer', 1);
    await writer.defineVariable('b', 'integer', 1);
    await (await writerNode.runtime.session('t')).defineVariable('m', 'integer', 0);
    const markers = await Promise.all(nodes.map((node) => watch(node, 't')));
    await markerThrough(writerNode, markers, 1);
    const seen = await Promise.all(nodes.map((node) => watch(node, 's')));

    expect(await writer.setVariables({ a: 2, b: 2 }, { atomic: true })).toEqual({
      a: { ok: true, version: 2 },
      b: { ok: true, version: 3 },
    });
    expect(raced).toBe(true);
    await markerThrough(third, markers, 2);
    for (const events of seen) {
      expect(events.filter(([name]) => name === 'a')).toEqual([['a', 2, 2]]);
      expect(events.filter(([name]) => name === 'b')).toEqual([
        ['b', 100, 2],
        ['b', 2, 3],
      ]);
    }
    for (const node of nodes) {
      const read = await (await node.runtime.session('s')).getVariables(['a', 'b']);
      expect(read.found).toEqual({ a: 2, b: 2 });
    }
  });

  it('keeps a batch whole on a node whose own write to one of its keys lost the race meanwhile', async () => {
    const { gate, b, writer, seenB } = await twoNodes();
    const onB = await b.runtime.session('s');
    const qa = await onB.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { maxTokens: 'a', temperature: 'b' },
    });
    // A write that loses a compare-and-set race re-reads its keys from the bucket, not through the router.
    const store = b.store as { lastChange: NonNullable<typeof b.store.lastChange> };
    const lastChange = store.lastChange.bind(b.store);
    let reread!: () => void;
    const reReadDone = new Promise<void>((resolve) => (reread = resolve));
    store.lastChange = async (key) => {
      const change = await lastChange(key);
      reread();
      return change;
    };
    gate.arm();
    const batch = writer.setVariables({ a: 2, b: 2 }, { atomic: true });
    await gate.reached;
    // B still shows version 1 of `a`, the bucket has A's version 2: B's write loses the race.
    const refused = onB.setVariable('a', 9, { expectedVersion: 1 }).then(
      () => 'written',
      (error: { code?: string }) => error.code,
    );
    await reReadDone;
    // Whatever the session does with what it re-read, it does within this turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await onB.getVariables(['a', 'b'])).toEqual({ found: { a: 1, b: 1 }, missing: [] });
    expect((await qa.execute({ question: 'q' })).provenance).toEqual({ a: 1, b: 1 });
    expect(seenB).toEqual([]);
    gate.open();
    expect(await batch).toEqual({ a: { ok: true, version: 2 }, b: { ok: true, version: 2 } });
    expect(await refused).toBe('version_conflict');
    await waitFor(() => seenB.length === 2);
    expect(seenB).toEqual([
      ['a', 2, 2],
      ['b', 2, 2],
    ]);
    expect(await onB.getVariables(['a', 'b'])).toEqual({ found: { a: 2, b: 2 }, missing: [] });
    expect((await qa.execute({ question: 'q' })).provenance).toEqual({ a: 2, b: 2 });
  });

  it('shows the writes of a batch whose writer stopped midway, once the hold has run out', async () => {
    // The default bound: what a node does with a writer that died between its writes.
    const { gate, b, writer, seenB } = await twoNodes(COMMIT_HOLD_MS);
    gate.arm();
    void writer.setVariables({ a: 2, b: 2 }, { atomic: true }).catch(() => {});
    await gate.reached;
    const written = (await b.store.get('s.a'))!.revision;
    // Never continued: what landed is shown as it is, and the router moves past it.
    await waitFor(() => seenB.length > 0);
    expect(seenB).toEqual([['a', 2, 2]]);
    expect(await b.store.waitForRevision(written, 5000)).toBe(true);
    expect(await (await b.runtime.session('s')).getVariables(['a', 'b'])).toMatchObject({ found: { a: 2, b: 1 } });
  });

  it('holds a read for a revision of a batch until the batch is whole on the node', async () => {
    const { gate, a, b, writer, markers } = await twoNodes();
    const client = await fx().client();
    gate.arm();
    const batch = writer.setVariables({ a: 2, b: 2 }, { atomic: true });
    await gate.reached;
    const written = (await b.store.get('s.a'))!.revision;
    // The client writes after the first write: its reply gives it a revision past it.
    await (await client.session('t')).setVariable('m', 2);
    await waitFor(() => markers.every((seen) => seen.some(([name, v]) => name === 'm' && v === 2)));
    const marker = (await b.store.get('t.m'))!.revision;
    expect(marker).toBeGreaterThan(written);
    expect(client.revision).toBeGreaterThanOrEqual(marker);
    // Each router has the first write but stands below it: a read for its revision must wait.
    for (const node of [a, b]) expect(node.store.appliedRevision).toBeLessThan(written);
    // So the client's read waits on whichever node serves it, and sees the batch whole.
    const read = client.session('s').then((session) => session.getVariables(['a', 'b']));
    gate.open();
    await batch;
    expect(await read).toEqual({ found: { a: 2, b: 2 }, missing: [] });
    for (const node of [a, b]) expect(await node.store.waitForRevision(marker, 5000)).toBe(true);
  });
});
