import { describe, expect, it, onTestFinished } from 'vitest';
import { kvStream } from '../../src/nats/kv-bucket.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { noResponders } from '../support/no-responders.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('a revision whose messages were removed before a node saw them (a deletion compacts its markers)', () => {
  /**
   * The only node, cut off from NATS while a message is written to `bucket` and removed from its stream again, then
   * back: its watch resumes after what it had, finds nothing, and never sees that revision. Returns the revision.
   */
  async function missedWhileAway(bucket: 'variablesBucket' | 'modulesBucket') {
    const buckets = fx().buckets();
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const node = await fx().node(buckets, { servers: proxy.url, nats: { reconnect: { waitMs: 100 } } });
    const session = await (await fx().client()).session('s');
    await session.defineVariable('x', 'integer', 7);

    proxy.cut();
    await waitFor(() => noResponders(nc(), `$SRV.PING.tether.${node.serviceId}`), {
      message: 'the server dropped the node',
    });
    const kv = await nc().jetstream().views.kv(buckets[bucket]);
    const removed = await kv.put('elsewhere.key', new TextEncoder().encode('{}'));
    await (await nc().jetstreamManager()).streams.deleteMessage(kvStream(buckets[bucket]), removed);
    proxy.restore();
    // Back, and serving what it had.
    await waitFor(async () => (await session.getVariable('x')) === 7, { timeout: 10_000, message: 'the node back' });
    return removed;
  }

  it('serves a request that asks for it (Tether-Min-Revision) instead of waiting out 2 s for call_timeout', async () => {
    const removed = await missedWhileAway('variablesBucket');
    const reply = await rawReply(nc(), 'tether.v1.session.s.var.get', JSON.stringify({ name: 'x' }), [
      'Tether-Min-Revision',
      String(removed),
    ]);
    expect(reply.errorCode).toBe('');
    expect(reply.body).toMatchObject({ result: { value: 7 } });
    expect(reply.body.revision).toBeGreaterThanOrEqual(removed);
  });

  it('serves a module request that asks for it (Tether-Min-Modules-Revision) alike', async () => {
    const removed = await missedWhileAway('modulesBucket');
    const reply = await rawReply(nc(), 'tether.v1.session.s.module.list', '{}', [
      'Tether-Min-Modules-Revision',
      String(removed),
    ]);
    expect(reply.errorCode).toBe('');
    expect(reply.body).toMatchObject({ result: [] });
    expect(reply.body.modulesRevision).toBeGreaterThanOrEqual(removed);
  });
});
