import { describe, expect, it, onTestFinished } from 'vitest';
import { CallTimeoutError, NatsConnectionError, type NatsConnectionStatus } from '../../src/index.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const watcher = usePlainConnection(fx);
let count = 0;

/**
 * A node whose requests of one variable operation `operation` are held on their way to it (a lagging proxy), a
 * client that goes through a proxy of its own so that it alone can be cut off, and a second client that stays.
 */
async function heldOperation(operation: 'set' | 'get') {
  count += 1;
  const sessionId = `cut_${count}`;
  const subject = `tether.v1.session.${sessionId}.var.${operation}`;
  const lagging = await startLaggingProxy(fx().server.url, (each) => each === subject);
  onTestFinished(() => lagging.close());
  await fx().node(fx().buckets(), { servers: lagging.url });
  const proxy = await startTcpProxy(fx().server.url);
  onTestFinished(() => proxy.close());

  const statuses: NatsConnectionStatus[] = [];
  const client = await fx().client({
    servers: proxy.url,
    timeoutMs: 3_000,
    reconnect: { waitMs: 100 },
    onError: (error) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
  });
  const steady = await (await fx().client()).session(sessionId);
  await steady.defineVariable('temperature', 'float', 0.5);
  const session = await client.session(sessionId);

  // A plain subscriber sees the request the client sends, then the node's reply to it on the client's reply subject.
  let sent = 0;
  let replied = 0;
  const subscriptions = [
    watcher().subscribe(subject, {
      callback: (_error, msg) => {
        sent += 1;
        if (msg.reply) subscriptions.push(watcher().subscribe(msg.reply, { callback: () => (replied += 1) }));
      },
    }),
  ];
  onTestFinished(() => subscriptions.forEach((each) => each.unsubscribe()));
  await watcher().flush();
  lagging.hold();
  return {
    session,
    steady,
    proxy,
    statuses,
    /** Waits until the request left the client, cuts the client off, lets the node answer it, restores the client. */
    async cutWhileHeld() {
      await waitFor(() => sent === 1, { message: `the ${operation} request sent` });
      await watcher().flush();
      proxy.cut();
      await waitFor(() => statuses.includes('disconnected'), { message: 'the client cut off' });
      lagging.release();
      await waitFor(() => replied === 1, { message: 'the node replies while the client is away' });
      proxy.restore();
      await waitFor(() => statuses.includes('reconnected'), { message: 'the client is back' });
    },
  };
}

describe('remote requests while the client is disconnected', () => {
  it('fails a write whose reply was lost with nats_connection, its outcome unknown, though the node applied it', async () => {
    const { session, steady, cutWhileHeld } = await heldOperation('set');
    const writing = session.setVariable('temperature', 0.9);
    await cutWhileHeld();

    const error = await writing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'disconnected', details: { outcome: 'unknown' } });
    expect((error as Error).message).toMatch(
      /var\.set' got no reply .*dropped while it waited.*was applied is unknown/,
    );
    // It was: the outcome is unknown to the client, not to the store.
    expect(await steady.getVariable('temperature')).toBe(0.9);
  }, 30_000);

  it('fails a read whose reply was lost with nats_connection, saying it changed nothing', async () => {
    const { session, cutWhileHeld } = await heldOperation('get');
    const reading = session.getVariable('temperature');
    await cutWhileHeld();

    const error = await reading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'disconnected' });
    expect((error as NatsConnectionError).details).not.toHaveProperty('outcome');
    expect((error as Error).message).toMatch(/var\.get' got no reply .*a read, it changed nothing/);
  }, 30_000);

  it('fails a request sent once the client was back, which its node then leaves unanswered, with call_timeout', async () => {
    const { session, proxy, statuses } = await heldOperation('get');
    proxy.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the client cut off' });
    const reading = session.getVariable('temperature');
    proxy.restore();
    await waitFor(() => statuses.includes('reconnected'), { message: 'the client is back' });

    // Held on its way to the node: the silence is the node's, not the client's connection's (it dropped before).
    await expect(reading).rejects.toBeInstanceOf(CallTimeoutError);
  }, 30_000);

  describe('made while the client is cut off', () => {
    /** A node, a client behind a proxy (already cut off when this resolves), and a second client that stays. */
    async function cutOffClient(timeoutMs: number) {
      count += 1;
      const sessionId = `down_${count}`;
      await fx().node(fx().buckets());
      const proxy = await startTcpProxy(fx().server.url);
      onTestFinished(() => proxy.close());
      const statuses: NatsConnectionStatus[] = [];
      const client = await fx().client({
        servers: proxy.url,
        timeoutMs,
        reconnect: { waitMs: 100 },
        onError: (error) => void (error instanceof NatsConnectionError && statuses.push(error.status)),
      });
      const steady = await (await fx().client()).session(sessionId);
      await steady.defineVariable('temperature', 'float', 0.5);
      const session = await client.session(sessionId);
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      proxy.cut();
      await waitFor(() => statuses.includes('disconnected'), { message: 'the client cut off' });
      return { client, session, steady, qa, proxy, statuses };
    }

    it('sends a write once the client is back, within its timeout, rather than losing it unsent', async () => {
      const { session, steady, proxy, statuses } = await cutOffClient(5_000);
      const writing = session.setVariable('temperature', 0.9);
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.restore();
      await waitFor(() => statuses.includes('reconnected'), { message: 'the client is back' });

      await writing;
      expect(await steady.getVariable('temperature')).toBe(0.9);
    }, 30_000);

    it('fails a write with nats_connection, not applied, when the client is still away at its timeout', async () => {
      const { session, steady } = await cutOffClient(1_000);

      const error = await session.setVariable('temperature', 0.9).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({
        code: 'nats_connection',
        status: 'disconnected',
        details: { outcome: 'not_applied', timeoutMs: 1_000 },
      });
      expect((error as Error).message).toMatch(
        /var\.set' not sent: this client's NATS connection was down from the call until its timeout \(1000 ms\); it was not applied/,
      );
      expect(await steady.getVariable('temperature')).toBe(0.5);
    }, 30_000);

    it('fails a write with nats_connection closed, not applied, when the client is closed before it is back', async () => {
      const { client, session, steady } = await cutOffClient(60_000);
      const writing = session.setVariable('temperature', 0.9).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.close();

      const error = await writing;
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ status: 'closed', details: { outcome: 'not_applied' } });
      expect((error as Error).message).toMatch(/var\.set' not sent/);
      expect(await steady.getVariable('temperature')).toBe(0.5);
    }, 30_000);

    it('runs an execution once the client is back, and fails one with not_applied when it is still away at its timeout', async () => {
      const { qa, proxy, statuses } = await cutOffClient(5_000);
      const results: string[] = [];
      const events = watcher().subscribe(`tether.v1.events.*.module.qa`, {
        callback: (_error, msg) => {
          const event = msg.json<{ type: string; result?: { executionId: string } }>();
          if (event.type === 'module.result') results.push(event.result!.executionId);
        },
      });
      onTestFinished(() => events.unsubscribe());
      await watcher().flush();

      const error = await qa.execute({ question: 'away' }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ status: 'disconnected', details: { outcome: 'not_applied' } });
      expect((error as Error).message).toMatch(/execute' not sent: .*; it did not run/);

      const running = qa.execute({ question: 'back' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.restore();
      await waitFor(() => statuses.includes('reconnected'), { message: 'the client is back' });
      const { executionId } = await running;
      // The one that failed never reached a node.
      await waitFor(() => results.length > 0, { message: 'the result event' });
      expect(results).toEqual([executionId]);
    }, 30_000);
  });
});
