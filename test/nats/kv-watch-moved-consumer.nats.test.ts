import { connect, type NatsConnection } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKvStore, type KvStore } from '../../src/nats/kv-store.js';
import type { StoreChange } from '../../src/store/store.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);
let count = 0;

/**
 * A watch over a whole bucket on a connection whose deliveries a proxy holds back, and a writer on another
 * connection. Held back, the watch answers none of its consumer's flow-control requests, so the server stops
 * sending once some 2 MB are out: the consumer falls behind the stream, as one does behind a slow link or a
 * busy client.
 */
async function stalledWatch() {
  count += 1;
  const bucket = `moved_${process.pid}_${count}`;
  const lagging = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('_INBOX.'));
  onTestFinished(() => lagging.close());
  const watcherConnection: NatsConnection = await connect({ servers: lagging.url });
  onTestFinished(() => watcherConnection.close());
  const watcherStore: KvStore<unknown> = await createKvStore(watcherConnection, { bucket });
  const writer: KvStore<unknown> = await createKvStore(plain(), { bucket });
  const seen: StoreChange<unknown>[] = [];
  const watch = watcherStore.watch('', (change) => seen.push(change), { includeCurrent: false });
  onTestFinished(() => watch.stop());
  await watch.ready;

  const manager = await plain().jetstreamManager();
  const behind = async (): Promise<boolean> => {
    const [consumer] = await manager.consumers.list(`KV_${bucket}`).next();
    const { last_seq } = (await manager.streams.info(`KV_${bucket}`)).state;
    return consumer !== undefined && consumer.delivered.stream_seq < last_seq;
  };
  return {
    bucket,
    writer,
    seen,
    manager,
    /** Holds the watch's deliveries and writes until its consumer is behind the stream. */
    async stall() {
      lagging.hold();
      const filler = 'x'.repeat(48 * 1024);
      for (let i = 0; !(await behind()); i += 1) {
        if (i >= 400) throw new Error('the consumer never fell behind');
        await writer.create(`fill.k${i}`, filler);
      }
    },
    release: () => lagging.release(),
  };
}

describe('a bucket watch whose consumer nats-server moves past messages', () => {
  it('delivers every write, in order and once, while other keys are purged between them (the consumer had not sent them yet)', async () => {
    count += 1;
    const bucket = `moved_${process.pid}_${count}`;
    const watcherConnection = await connect({ servers: fx().server.url });
    onTestFinished(() => watcherConnection.close());
    const watcherStore = await createKvStore<string>(watcherConnection, { bucket });
    const writer = await createKvStore<string>(plain(), { bucket });
    const seen: number[] = [];
    const watch = watcherStore.watch('', (change) => seen.push(change.revision), { includeCurrent: false });
    onTestFinished(() => watch.stop());
    await watch.ready;

    // As a session's deletion purges its keys while other sessions write: most purges land before the consumer has
    // sent the writes just stored (on 2.9.10, without the checks, about three writes in four were never delivered).
    const written: number[] = [];
    for (let round = 0; round < 200; round += 1) {
      await writer.create(`gone.k${round}`, 'x');
      const writes = [0, 1, 2, 3, 4].map((i) => writer.create(`kept.k${round}_${i}`, 'y').then((r) => written.push(r)));
      await Promise.all([...writes, writer.purge(`gone.k${round}`)]);
    }

    await waitFor(() => written.every((revision) => seen.includes(revision)), {
      timeout: 10_000,
      message: 'every write delivered',
    });
    expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y));
  }, 60_000);

  it('delivers the writes a purge came after while its consumer was behind (the server moves it to the purge marker)', async () => {
    const { writer, seen, stall, release } = await stalledWatch();
    await writer.create('a.x', 1);
    await stall();
    const b = await writer.create('b.y', 2);
    const c = await writer.create('c.z', 3);
    const purged = await writer.purge('a.x');
    release();

    await waitFor(() => seen.some((change) => change.revision === purged), { message: 'the purge delivered' });
    await waitFor(() => seen.some((change) => change.revision === c), { message: 'c.z delivered' });
    const revisions = seen.map((change) => change.revision);
    expect(revisions).toContain(b);
    // In stream order, each once.
    expect(revisions).toEqual([...new Set(revisions)].sort((x, y) => x - y));
  }, 60_000);

  it('delivers the writes a filtered stream purge came after while its consumer was behind, nothing written since', async () => {
    const { bucket, writer, seen, manager, stall, release } = await stalledWatch();
    await writer.create('a.x', 1);
    await stall();
    const b = await writer.create('b.y', 2);
    const c = await writer.create('c.z', 3);
    // What a session's deletion does to its purge markers: the server moves every consumer behind to past the end.
    await manager.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.a.>` });
    release();

    await waitFor(() => seen.some((change) => change.revision === c), { timeout: 10_000, message: 'c.z delivered' });
    const revisions = seen.map((change) => change.revision);
    expect(revisions).toContain(b);
    expect(revisions).toEqual([...new Set(revisions)].sort((x, y) => x - y));
  }, 60_000);
});
