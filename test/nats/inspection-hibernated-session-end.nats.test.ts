/**
 * A session hibernating on a node ends its actor in `hibernated` (status `done`). Deleted or expired before it woke
 * there, it was shown nothing more, on the inspect feed or to the node's inspector: its last word stayed
 * `session.hibernate → "hibernated"`, and a watcher could not tell a deleted session from a sleeping one. Now it is
 * shown one more actor of its name, stopped in `hibernated` (`xstate.stop`, status `stopped`), as a module or a spawned
 * process that ends asleep is; a session that woke first is shown ending by its new actor alone.
 */
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Runtime, createEchoModel, type InspectedSnapshot, type RuntimeOptions } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

const HIBERNATED = 'session.hibernate → "hibernated" [done]';
const SHOWN_STOPPED = 'xstate.stop → "hibernated" [stopped]';

/** A step as `<event> → <state value> [<status>]`. */
function step(event: unknown, value: unknown, status: unknown): string {
  return `${(event as { type: string }).type} → ${JSON.stringify(value)} [${String(status)}]`;
}

/**
 * An inspected node whose sessions hibernate after 100 ms idle, with the steps of session `sessionId` its own
 * inspector is shown (`local`) and those its inspect feed publishes (`feed`).
 */
async function inspectedNode(sessionId: string, options: Partial<RuntimeOptions> = {}) {
  const local: string[] = [];
  const feed: string[] = [];
  const node = await Runtime.start({
    llm: createEchoModel(),
    sessionTtlMs: 60_000,
    hibernateAfterMs: 100,
    ...options,
    inspect: (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot') return;
      if ((event.actorRef as unknown as { id: string }).id !== `tether.session.${sessionId}`) return;
      const snapshot = event.snapshot as unknown as { value: unknown; status: string };
      local.push(step(event.event, snapshot.value, snapshot.status));
    },
    nats: { servers: fx().server.url, ...fx().buckets(), name: 'inspected-node', inspect: true },
  });
  const subscription = nc().subscribe(`tether.v1.inspect.${sessionId}.session`, {
    callback: (_error, message) => {
      const snapshot = message.json<InspectedSnapshot>();
      feed.push(step(snapshot.event, snapshot.value, snapshot.status));
    },
  });
  await nc().flush();
  const stop = async () => {
    subscription.unsubscribe();
    await node.stop();
  };
  return { node, local, feed, stop };
}

describe('inspection of a session that ends while it hibernates on a node', () => {
  it('shows the session stopped when it is deleted asleep, on the inspect feed and to the node’s inspector', async () => {
    const { node, local, feed, stop } = await inspectedNode('sleeper');
    try {
      const session = await node.session('sleeper');
      await session.defineVariable('t', 'float', 0.5);
      await waitFor(() => feed.at(-1) === HIBERNATED, { message: 'the session hibernates' });

      await session.delete();

      expect(local.slice(-2)).toEqual([HIBERNATED, SHOWN_STOPPED]);
      await waitFor(() => feed.at(-1) === SHOWN_STOPPED, { message: 'the feed shows the session stopped' });
      expect(feed.slice(-2)).toEqual([HIBERNATED, SHOWN_STOPPED]);
    } finally {
      await stop();
    }
  });

  it('shows the session stopped when it expires asleep', async () => {
    const { node, local, stop } = await inspectedNode('expiring', { sessionTtlMs: 600 });
    try {
      const session = await node.session('expiring');
      await session.defineVariable('t', 'float', 0.5);
      await waitFor(() => local.at(-1) === HIBERNATED, { message: 'the session hibernates' });

      await waitFor(() => local.at(-1) === SHOWN_STOPPED, { message: 'the session expires, shown stopped' });
      await expect(session.getVariable('t')).rejects.toMatchObject({ code: 'session_expired' });
      expect(local.slice(-2)).toEqual([HIBERNATED, SHOWN_STOPPED]);
    } finally {
      await stop();
    }
  });

  it('shows a session that woke before its deletion ending by its new actor alone', async () => {
    const { node, local, stop } = await inspectedNode('woken');
    try {
      const session = await node.session('woken');
      await session.defineVariable('t', 'float', 0.5);
      await waitFor(() => local.at(-1) === HIBERNATED, { message: 'the session hibernates' });
      // Woken by the write, and kept awake by the watch (a watched session does not hibernate on a node).
      await session.watchVariables('*', () => {});
      await session.setVariable('t', 0.7);

      await session.delete();

      expect(local.at(-1)).toBe('session.end → "deleted" [done]');
      expect(local).not.toContain(SHOWN_STOPPED);
    } finally {
      await stop();
    }
  });

  it('shows a session asleep on a node stopped when the node stops', async () => {
    const { node, local, stop } = await inspectedNode('at-stop');
    const session = await node.session('at-stop');
    await session.defineVariable('t', 'float', 0.5);
    await waitFor(() => local.at(-1) === HIBERNATED, { message: 'the session hibernates' });

    await stop();

    expect(local.slice(-2)).toEqual([HIBERNATED, SHOWN_STOPPED]);
  });
});
