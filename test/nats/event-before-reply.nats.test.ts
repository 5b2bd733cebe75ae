import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/node/runtime.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { slowRouterStore } from '../support/slow-router-store.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe("a write's event and its reply", () => {
  it('sends the event ahead of the reply even when the replaced value must come from the history', async () => {
    const buckets = fx().buckets();
    // The only node serving: it hears other writers 300 ms late, and its history reads take 100 ms.
    await fx().assembledNode(buckets, { store: slowRouterStore(buckets.variablesBucket, 300, 100) });
    const client = await fx().client();
    const session = await client.session('k');
    await session.defineVariable('x', 'integer', 0);
    // Another writer on the same bucket, serving nothing: its write is news the node has not heard yet.
    const otherStore = await createNodeStore(nc(), { bucket: buckets.variablesBucket, onListenerError: () => {} });
    const other = await Runtime.start({ store: otherStore, onError: () => {} });
    const events: { version: number; oldValue: unknown; newValue: unknown }[] = [];
    const subscription = nc().subscribe('tether.v1.events.k.var.x', { callback: (_e, msg) => events.push(msg.json()) });
    await nc().flush();
    try {
      await (await other.session('k')).setVariable('x', -1);

      // The node's session has not seen -1: its write conflicts, is retried on the stored record, and the value
      // it replaced (-1, at a revision the node never routed) is read from the history.
      const written = await session.setVariable('x', 1);
      // A round trip on the subscriber's connection: what the server sent it before the reply is here by now.
      await nc().flush();

      expect(written.version).toBe(3);
      expect(events.find((event) => event.version === 3)).toMatchObject({ oldValue: -1, newValue: 1 });
    } finally {
      subscription.unsubscribe();
      await other.stop();
    }
  });
});
