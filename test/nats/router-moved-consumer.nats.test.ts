import { describe, expect, it, onTestFinished } from 'vitest';
import type { VariableChange } from '../../src/session/session-context.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);

/**
 * Node A's view of the variables bucket is held back behind a proxy (its client answers none of its router
 * consumer's flow-control requests), node B writes and deletes a session, and a remote client reads what it saw
 * written. This is the client soak's node stall: on nats-server 2.9.10 the deletion's purges move A's consumer, then
 * behind, past the writes it had not sent yet, and a node that never applies the revision a client carries refuses
 * every request of that client (`call_timeout`, outcome `not_applied`).
 */
describe('a node whose router consumer nats-server moved past writes', () => {
  it('answers a client carrying the revision of a write made while its consumer was behind, after a session deletion', async () => {
    const buckets = fx().buckets();
    const stream = `KV_${buckets.variablesBucket}`;
    // `_INBOX.` carries A's router consumer's deliveries and flow-control requests, and A's JetStream replies: while
    // held, A must serve nothing (nothing of this test asks it to, until the end).
    const lagging = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('_INBOX.'));
    onTestFinished(() => lagging.close());
    await fx().node(buckets, { servers: lagging.url }); // node A
    const nodeB = await fx().node(buckets);
    const client = await fx().client();

    const kept = await client.session('kept');
    await kept.defineVariable('note', 'string', 'before');
    const changes: VariableChange[] = [];
    // The client learns of B's write through its watch: its next request carries that revision.
    await kept.watchVariables('note', (change) => changes.push(change));
    const onB = await nodeB.runtime.session('kept');
    const doomed = await nodeB.runtime.session('doomed');
    await doomed.defineVariable('blob', 'string', '');

    const manager = await plain().jetstreamManager();
    // Two writes behind at least: one behind may be B's router, merely a moment late.
    const behind = async (): Promise<boolean> => {
      const { last_seq } = (await manager.streams.info(stream)).state;
      const consumers = await manager.consumers.list(stream).next();
      return consumers.some((consumer) => consumer.delivered.stream_seq < last_seq - 1);
    };
    lagging.hold();
    // Some 2 MB unanswered and the server stops sending to A's router: its consumer falls behind the stream.
    for (let i = 0; !(await behind()); i += 1) {
      if (i >= 400) throw new Error("node A's router consumer never fell behind");
      await doomed.setVariable('blob', `${i}:${'x'.repeat(48 * 1024)}`);
    }
    // Before the deletion: the purges move A's consumer past it. A write after them would still reach A (a consumer
    // moved past the end gets what comes next), and take A's applied revision past every one it skipped.
    await onB.setVariable('note', 'after');
    await waitFor(() => changes.some((change) => change.newValue === 'after'), { message: 'the client sees the note' });
    // Rollups of its keys, then a filtered purge of their markers: each moves A's consumer past what it had not sent.
    await doomed.delete();
    lagging.release();
    await nodeB.stop();

    // Node A alone answers now, and nothing more is written: it must find the writes it skipped on its own. The read
    // carries the note's revision; A, not there yet after a moment, finds the stream holds it and checks its watch.
    expect(await kept.getVariable('note')).toBe('after');
  }, 30_000);
});
