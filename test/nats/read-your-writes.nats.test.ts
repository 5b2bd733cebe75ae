import type { Msg } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { rawReply } from '../support/raw-request.js';
import { slowRouterStore } from '../support/slow-router-store.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { waitFor } from '../support/wait-for.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('read-your-writes across nodes', () => {
  it('reads back every write through the client, also when the other node answers the read', async () => {
    const buckets = fx().buckets();
    const nodes = [await fx().node(buckets), await fx().node(buckets)];
    const client = await fx().client();
    const session = await client.session('ryw');
    await session.defineVariable('x', 'integer', 0);
    let crossNode = 0;
    for (let i = 1; i <= 100; i++) {
      const [, writer] = await servedBy(nodes, () => session.setVariable('x', i));
      const [value, reader] = await servedBy(nodes, () => session.getVariable('x'));
      expect(value).toBe(i);
      if (reader !== writer) crossNode += 1;
    }
    // With two nodes in one queue group, a hundred reads all landing on the writer's node would be a broken group.
    expect(crossNode).toBeGreaterThan(0);
  });

  it('waits for a lagging router before answering, where the lagging node alone would read a stale value', async () => {
    const buckets = fx().buckets();
    const nodes = [
      await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 100) }),
      await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 100) }),
    ];
    const client = await fx().client();
    const session = await client.session('lag');
    await session.defineVariable('x', 'integer', 0);
    await Promise.all(nodes.map((node) => node.runtime.session('lag')));
    let crossNode = 0;
    let staleSeen = 0;
    // The queue group picks the nodes at random, so 15 rounds all read on their writer's node about once in 32,768
    // runs (a full-suite run under load saw it): 15 rounds at least, then more until a read crossed nodes.
    for (let i = 1; i <= 15 || (crossNode === 0 && i <= 60); i++) {
      const [, writer] = await servedBy(nodes, () => session.setVariable('x', i));
      const other = nodes.find((node) => node !== writer)!;
      // The other node's own view lags by the router delay: this is what a read there would see unguarded.
      if ((await (await other.runtime.session('lag')).getVariable('x')) !== i) staleSeen += 1;
      const [value, reader] = await servedBy(nodes, () => session.getVariable('x'));
      expect(value).toBe(i);
      if (reader !== writer) crossNode += 1;
    }
    expect(staleSeen).toBeGreaterThan(0);
    expect(crossNode).toBeGreaterThan(0);
  });

  it('lets the other node read a client write once it has applied the revision the client was given', async () => {
    const buckets = fx().buckets();
    // Hand-assembled: the test asks the other node's store which revision it has applied.
    const nodes = [await fx().assembledNode(buckets), await fx().assembledNode(buckets)];
    const client = await fx().client();
    const session = await client.session('other');
    await Promise.all(nodes.map((node) => node.runtime.session('other')));
    await session.defineVariable('t', 'float', 0.1);
    const [, writer] = await servedBy(nodes, () => session.setVariable('t', 0.9));
    const other = nodes.find((node) => node !== writer)!;
    expect(await other.store.waitForRevision(client.revision, 2000)).toBe(true);
    expect(await (await other.runtime.session('other')).getVariable('t')).toBe(0.9);
  });

  it('reads at least the value of a watch event right after it, also through a node whose router lags', async () => {
    const buckets = fx().buckets();
    const nodes = [
      await fx().node(buckets),
      await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 100) }),
    ];
    const writer = await (await fx().client()).session('seen');
    // Another client: only the events tell it about the writes, no reply of its own raises its revision.
    const watcher = await (await fx().client()).session('seen');
    await writer.defineVariable('x', 'integer', 0);
    await Promise.all(nodes.map((node) => node.runtime.session('seen')));
    const reads: { seen: number; read: unknown; node: TestNode }[] = [];
    let reading = Promise.resolve();
    const unwatch = await watcher.watchVariables('x', (change) => {
      reading = reading.then(async () => {
        const [read, node] = await servedBy(nodes, () => watcher.getVariable('x'));
        reads.push({ seen: change.newValue as number, read, node });
      });
    });
    for (let i = 1; i <= 20; i++) {
      await writer.setVariable('x', i);
      // One write at a time: a later write must not hide a stale read of this one. Waits for this write's event,
      // not a count of events: the watch may also deliver the definition, from the history once this write's event
      // skips it, when its starting read came from the lagging node before its router applied the definition (the
      // watcher's client never saw that write, so nothing made the node wait for it).
      await waitFor(() => reads.some((r) => r.seen === i), { message: `the read after event ${i}` });
    }
    unwatch();
    for (const { seen, read } of reads) expect(read).toBeGreaterThanOrEqual(seen);
    expect(reads.some((r) => r.node === nodes[1])).toBe(true);
  });

  it('keeps the highest revision seen when a reply reporting a lower one arrives after it', async () => {
    // Two nodes answering two reads sent at once, the lagging one last: its lower revision must not undo the other's.
    const enc = new TextEncoder();
    const answer = (msg: Msg, revision: number): void => {
      msg.respond(enc.encode(JSON.stringify({ result: { type: 'integer', value: 1, version: 1 }, revision })));
    };
    const reads: Msg[] = [];
    const carried: (string | undefined)[] = [];
    const nodes = nc().subscribe('tether.v1.session.revs.>', {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) return answer(msg, 0);
        carried.push(msg.headers?.get('Tether-Min-Revision') || undefined);
        reads.push(msg);
        if (reads.length === 2) {
          const byName = (name: string) => reads.find((read) => read.json<{ name: string }>().name === name)!;
          answer(byName('a'), 50);
          answer(byName('b'), 3);
        } else if (reads.length === 3) answer(msg, 50);
      },
    });
    onTestFinished(() => nodes.unsubscribe());
    await nc().flush();
    const client = await fx().client();
    const session = await client.session('revs');
    await Promise.all([session.getVariable('a'), session.getVariable('b')]);
    expect(client.revision).toBe(50);
    await session.getVariable('c');
    expect(carried).toEqual([undefined, undefined, '50']);
  });

  it('counts exactly 1000 after 20 clients × 50 concurrent updateVariable increments over two nodes', async () => {
    const buckets = fx().buckets();
    const nodes = [await fx().node(buckets), await fx().node(buckets)];
    // One client's updates of a variable take turns, so the writers that really compete are the clients: twenty.
    const clients = await Promise.all(Array.from({ length: 20 }, () => fx().client({ timeoutMs: 20_000 })));
    const sessions = await Promise.all(clients.map((client) => client.session('counter')));
    await sessions[0]!.defineVariable('count', 'integer', 0);
    // The other clients have not seen the definition's revision, so nothing makes a node wait for it on their
    // behalf: they start once both nodes have routed it.
    for (const node of nodes) {
      const local = await node.runtime.session('counter');
      await waitFor(() => local.hasVariable('count'), { message: 'the definition routed to every node' });
    }
    let attempts = 0;
    const increment = (v: unknown): number => {
      attempts += 1;
      return (v as number) + 1;
    };
    const written = await Promise.all(
      sessions.map(async (session) => ({
        session,
        records: await Promise.all(Array.from({ length: 50 }, () => session.updateVariable('count', increment))),
      })),
    );
    // Writers really competed: some compare-and-sets lost and were retried on the fresher value.
    expect(attempts).toBeGreaterThan(1000);
    // Each increment wrote its own version, one more than the one it read: none lost, none applied twice.
    const records = written.flatMap(({ records }) => records).sort((a, b) => a.version - b.version);
    expect(records.map(({ value, version }) => [value, version])).toEqual(
      Array.from({ length: 1000 }, (_, i) => [i + 1, i + 2]),
    );
    // Only the client that wrote last is sure to read it: another may read from a node that has not applied it yet
    // (CI, once, read 999 through a client whose own writes were older).
    const last = written.find(({ records }) => records.some(({ version }) => version === 1001))!;
    expect(await last.session.getVariable('count')).toBe(1000);
    for (const node of nodes) expect(await node.requestsServed()).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a read and a write at a revision its node does not apply within 2 s with call_timeout, writing nothing', async () => {
    // A node behind a proxy that holds its watch's deliveries: it hears of no write from the bucket meanwhile.
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.variablesBucket}.`),
    );
    onTestFinished(() => proxy.close());
    await fx().node(buckets, { servers: proxy.url });
    const session = await (await fx().client()).session('held');
    await session.defineVariable('x', 'integer', 1);
    proxy.hold();
    // A write the node has not heard of: a copy of the record under a key of another session.
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const unseen = await kv.put('elsewhere.x', (await kv.get('held.x'))!.value);
    const atUnseen: [string, string] = ['Tether-Min-Revision', String(unseen)];
    const refusal = {
      code: 'call_timeout',
      message: `waiting for the node to apply revision ${unseen} timed out after 2000 ms; nothing of it was applied`,
      details: { minRevision: unseen, outcome: 'not_applied' },
    };

    const read = await rawReply(nc(), 'tether.v1.session.held.var.get', JSON.stringify({ name: 'x' }), atUnseen);
    expect(read.body.error).toMatchObject(refusal);
    const write = await rawReply(
      nc(),
      'tether.v1.session.held.var.set',
      JSON.stringify({ name: 'x', value: 2 }),
      atUnseen,
    );
    expect(write.body.error).toMatchObject(refusal);

    // Once the node has heard, the refused write is nowhere: the variable is as it was.
    proxy.release();
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
    expect(
      (await rawReply(nc(), 'tether.v1.session.held.var.get', JSON.stringify({ name: 'x' }), atUnseen)).body,
    ).toMatchObject({ result: { value: 1, version: 1 } });
  }, 30_000);
});
