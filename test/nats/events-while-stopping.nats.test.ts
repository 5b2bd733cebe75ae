/**
 * A NATS node's `runtime.stop()` stops serving requests before it stops its sessions, and its own (embedded) callers
 * may write until then: every write it accepted has its event published, once, in order. Only a node that dies loses
 * an event (README).
 */
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('variable events while a node stops', () => {
  it('publishes the event of every write the stopping node accepted', async () => {
    const node = await Runtime.start({
      onError: () => {},
      nats: { servers: fx().server.url, ...fx().buckets(), name: 'stopping-node' },
    });
    const published: number[] = [];
    const subscription = nc().subscribe('tether.v1.events.stopping.var.t', {
      callback: (_error, msg) => published.push(msg.json<{ version: number }>().version),
    });
    await nc().flush();
    let stopping: Promise<void> | undefined;
    try {
      const session = await node.session('stopping');
      await session.defineVariable('t', 'integer', 0);
      // The node's own caller writes on, one write after another, until the stop refuses one.
      const accepted: number[] = [];
      const writer = (async () => {
        for (let i = 1; i < 10_000; i++) {
          try {
            accepted.push((await session.setVariable('t', i)).version);
          } catch {
            return;
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 30));
      stopping = node.stop();
      await writer;
      await stopping;
      await nc().flush();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(accepted.length).toBeGreaterThan(0);
      // Every write that resolved is in the store; each must have had its event, once, in order.
      expect(published).toEqual([1, ...accepted]);
    } finally {
      subscription.unsubscribe();
      await (stopping ?? node.stop());
    }
  });
});
