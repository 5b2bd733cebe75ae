import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, type ModuleEvent, type Runtime } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { rawRequest } from '../support/raw-request.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const stubbed = useOpenAIStub();
const QA = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/** How many executions of module `qa` of session `ending` the node's module process holds: running, or queued. */
function executionsHeld(runtime: Runtime): number {
  const context = runtime.whereis('tether.module.ending.qa')?.actor.getSnapshot().context as
    { current: unknown; mailbox: readonly unknown[] } | undefined;
  return context ? (context.current ? 1 : 0) + context.mailbox.length : 0;
}

describe("a session's end and its modules' events", () => {
  it('publishes the failure of each execution its modules held, on either node, before the end itself', async () => {
    const buckets = fx().buckets();
    const nodes = [await fx().node(buckets, { llm: stubbed.llm() }), await fx().node(buckets, { llm: stubbed.llm() })];
    const client = await fx().client();
    const session = await client.session('ending');
    const qa = await session.module('qa', QA);
    const heard: string[] = [];
    qa.on('module.failed', (event) => heard.push(event.error.code));
    const wire: string[] = [];
    const subscription = nc().subscribe('tether.v1.events.ending.>', {
      callback: (_e, msg) => {
        const event = msg.json<ModuleEvent | { reason: string }>();
        if ('reason' in event) wire.push(`session ${event.reason}`);
        else if (event.type === 'module.failed') wire.push(event.error.code);
      },
    });
    await nc().flush();

    stubbed.stub().hold();
    // Two at once: the queue group spreads them, so the nodes may hold one each.
    const executions = [1, 2].map(() => qa.execute({ question: 'q' }).catch((error: { code: string }) => error.code));
    // Both held by a node (at the provider, or queued behind the other on the same node) before the delete: one
    // still on its way would be answered session_not_found, having reached the session after its end.
    await waitFor(() => nodes.reduce((held, node) => held + executionsHeld(node.runtime), 0) === 2, {
      message: 'both executions held by the nodes',
    });
    await session.delete();

    expect(await Promise.all(executions)).toEqual(['process_exited', 'process_exited']);
    await waitFor(() => wire.includes('session deleted'), { message: 'the end published' });
    expect(wire.at(-1)).toBe('session deleted');
    expect(wire).toEqual(['process_exited', 'process_exited', 'session deleted']);
    // The remote handle stops listening at the end: it heard each failure before.
    expect(heard).toEqual(['process_exited', 'process_exited']);
    subscription.unsubscribe();
    stubbed.stub().release();
  });

  // Found by a review: the end was published straight on the connection, which nats.js empties as it dials again, so a
  // node cut off while it waited for the other nodes' answers lost it: remote watches of the session never stopped.
  it.each([
    ['deleted', 'session_not_found'],
    ['expired', 'session_expired'],
  ])(
    'is published once the node that ended it (%s) is back, when it was cut off as it told the other nodes',
    async (reason, code) => {
      const proxy = await startTcpProxy(fx().server.url);
      onTestFinished(() => proxy.close());
      const statuses: string[] = [];
      await fx().node(fx().buckets(), {
        servers: proxy.url,
        nats: { reconnect: { waitMs: 100 } },
        onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
        ...(reason === 'expired' ? { sessionTtlMs: 400 } : {}),
      });
      const told: string[] = [];
      const watcher = await fx().client({
        onError: (error) => void told.push(String((error as { code?: string }).code)),
      });
      const watched = await watcher.session('s1');
      await watched.defineVariable('x', 'integer', 1);
      const unwatch = await watched.watchVariables('*', () => {});
      onTestFinished(() => unwatch());
      const ends: string[] = [];
      const events = nc().subscribe('tether.v1.events.s1.session', {
        callback: (_error, msg) => ends.push(msg.json<{ reason: string }>().reason),
      });
      // The node tells every node of the end on the control subject: the moment it does, its link is cut.
      const control = nc().subscribe('tether.v1.control.s1.session.end', { callback: () => proxy.cut() });
      onTestFinished(() => [events, control].forEach((subscription) => subscription.unsubscribe()));
      await nc().flush();

      // A deletion as any client sends it, waiting for its reply as long as it takes.
      const replies = reason === 'deleted' ? rawRequest(nc(), 'tether.v1.session.s1.delete', {}) : [];
      await waitFor(() => statuses.includes('disconnected'), { message: 'the node cut off', timeout: 10_000 });
      // Past the 5 s the node waits for the nodes' answers: it announces the end while still cut off.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(ends).toEqual([]);
      proxy.restore();

      await waitFor(() => ends.length > 0 && told.length > 0 && (reason === 'expired' || replies.length > 0), {
        message: 'the end published and heard',
        timeout: 20_000,
      });
      expect({ ends, told }).toEqual({ ends: [reason], told: [code] });
      if (reason === 'deleted')
        expect(replies.map((reply) => reply.json())).toEqual([
          { result: { deleted: true }, revision: expect.any(Number) },
        ]);
    },
    60_000,
  );
});
