import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import { startLaggingProxy, type LaggingProxy } from '../support/lagging-proxy.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

let server: NatsTestServer;
let proxy: LaggingProxy;
let nc: NatsConnection;
/** How many of the next request replies the proxy swallows: what a stream leader dying after storing a write does. */
let swallow = 0;

beforeAll(async () => {
  server = await startNatsServer();
  // Replies to requests come on the connection's muxed inbox, `_INBOX.<id>.<token>` (watches use `_INBOX.<id>`).
  proxy = await startLaggingProxy(server.url, (subject) => {
    if (swallow === 0 || !/^_INBOX\.[^.]+\.[^.]+$/.test(subject)) return false;
    swallow -= 1;
    return true;
  });
  proxy.hold();
  nc = await connect({ servers: proxy.url });
});

afterAll(async () => {
  await nc?.close();
  await proxy?.close();
  await server?.stop();
});

describe('kv-write-fate', () => {
  it('applies a compare-and-set write once when it was stored but its answer never came, and says so', async () => {
    const store = await createKvStore<number>(nc, { bucket: `fate_${process.pid}_${Date.now()}` });
    const first = await store.create('s.x', 1);
    await store.create('s.y', 1);

    swallow = 2;
    // Both stored; neither hears back. The update is published again and refused (the key is at its own write),
    // which its id tells apart from a competitor's: it resolves to that write. The unconditional delete cannot be
    // told apart from a second copy, so it is not published again.
    const [updated, deleted] = await Promise.all([
      store.update('s.x', 2, first),
      store.delete('s.y').then(
        () => undefined,
        (error: unknown) => error,
      ),
    ]);

    const history = await store.history('s.x');
    expect(history.map((change) => (change.operation === 'put' ? change.value : 'deleted'))).toEqual([1, 2]);
    expect(updated).toBe(history.at(-1)!.revision);
    expect(deleted).toBeInstanceOf(StoreUnavailableError);
    expect(deleted).toMatchObject({ code: 'store_unavailable', key: 's.y', operation: 'delete', outcome: 'unknown' });
    expect((await store.history('s.y')).map((change) => change.operation)).toEqual(['put', 'delete']);
  }, 20_000);

  it('sends a compare-and-set purge again as a compare-and-set write, and an unconditional one not', async () => {
    const store = await createKvStore<number>(nc, { bucket: `fate_purge_${process.pid}_${Date.now()}` });
    const first = await store.create('s.x', 1);
    await store.create('s.y', 1);

    swallow = 2;
    // Both stored (each key's history rolled up into its marker); neither hears back. The purge at a revision is
    // published again, refused, and its own id on the marker tells it was stored; the one without is not sent again.
    const [purged, unconditional] = await Promise.all([
      store.purge('s.x', first),
      store.purge('s.y').then(
        () => undefined,
        (error: unknown) => error,
      ),
    ]);

    const history = await store.history('s.x');
    expect(history.map((change) => change.operation)).toEqual(['delete']);
    expect(purged).toBe(history[0]!.revision);
    expect(unconditional).toBeInstanceOf(StoreUnavailableError);
    expect(unconditional).toMatchObject({ key: 's.y', operation: 'purge', outcome: 'unknown' });
    expect((await store.history('s.y')).map((change) => change.operation)).toEqual(['delete']);
  }, 20_000);

  it('fails with store_unavailable, outcome unknown, when the key was written past its kept history meanwhile', async () => {
    const bucket = `fate_past_${process.pid}_${Date.now()}`;
    const store = await createKvStore<number>(nc, { bucket, historyDepth: 1 });
    // Another node's connection, which the proxy leaves alone.
    const direct = await connect({ servers: server.url });
    try {
      const other = await createKvStore<number>(direct, { bucket, historyDepth: 1 });
      const first = await store.create('s.x', 1);

      swallow = 1;
      const updating = store.update('s.x', 2, first).then(
        () => undefined,
        (error: unknown) => error,
      );
      // Stored, unheard. Before it is sent again, another writer writes over it, and the bucket (one write kept per
      // key) no longer holds the write that would say whether the first copy was stored.
      await waitFor(async () => (await other.get('s.x'))?.value === 2, { message: 'the unheard update stored' });
      const over = await other.update('s.x', 3, (await other.get('s.x'))!.revision);
      const failure = await updating;

      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(failure).toMatchObject({
        code: 'store_unavailable',
        bucket,
        key: 's.x',
        operation: 'put',
        outcome: 'unknown',
      });
      expect((failure as StoreUnavailableError).message).toContain(`writes after revision ${first}`);
      // Nothing else changed: the other writer's value stands.
      expect(await store.get('s.x')).toMatchObject({ value: 3, revision: over });
    } finally {
      await direct.close();
    }
  }, 20_000);
});
