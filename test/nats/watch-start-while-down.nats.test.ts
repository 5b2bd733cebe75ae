/**
 * A remote `watchVariables` called while the client's connection is down waits for it, as every other call made then
 * does (README: "a request made while the connection is down waits for it and is sent once it is back, within the
 * same timeout"), and fails with `nats_connection` naming the session when it is still down at the timeout (found by
 * a review: it rejected at nats.js's next dial with nats.js's own `NatsError: DISCONNECT`).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, type NatsConnectionStatus } from '../../src/index.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

describe('a remote watch started while the connection is down', () => {
  it('starts once the connection is back, as a read made at the same moment is answered', async () => {
    const runtime = await fx().runtime(fx().buckets());
    const local = await runtime.session('wd');
    await local.defineVariable('x', 'integer', 1);

    const link = await startTcpProxy(fx().server.url);
    onTestFinished(() => link.close());
    const statuses: NatsConnectionStatus[] = [];
    const client = await fx().client({
      servers: link.url,
      reconnect: { waitMs: 300 },
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
    });
    const session = await client.session('wd');

    link.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the client sees its connection drop' });
    const seen: VariableChange[] = [];
    const watching = session.watchVariables('*', (change) => seen.push(change), { includeInitial: true });
    const started = watching.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const read = session.getVariable('x');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    link.restore();
    await waitFor(() => statuses.includes('reconnected'), { message: 'the client reconnects' });

    // The read made at the same moment waited for the connection and was answered.
    expect(await read).toBe(1);
    const outcome = await started;
    if (!outcome.ok) {
      const error = outcome.error as Error & { code?: unknown };
      // At the very least a typed error; what any other call gives is to wait and start.
      throw new Error(
        `watchVariables rejected with ${error.constructor.name} (code ${String(error.code)}): ${error.message}`,
      );
    }
    await waitFor(() => seen.length === 1, { message: 'the initial value' });
    await local.setVariable('x', 2);
    await waitFor(() => seen.at(-1)?.newValue === 2, { message: 'the next change' });
  }, 30_000);

  it('fails with a typed error naming the session when it cannot start, not nats.js’s bare DISCONNECT', async () => {
    await fx().runtime(fx().buckets());
    const link = await startTcpProxy(fx().server.url);
    onTestFinished(() => link.close());
    const statuses: NatsConnectionStatus[] = [];
    const client = await fx().client({
      servers: link.url,
      reconnect: { waitMs: 200 },
      timeoutMs: 1500,
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
    });
    const session = await client.session('wd2');
    link.cut();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the client sees its connection drop' });
    // Down until well past the timeout: the watch cannot start.
    const error = await session
      .watchVariables('*', () => {})
      .then(
        () => undefined,
        (failure: unknown) => failure as Error & { code?: unknown },
      );
    link.restore();
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error?.code).toBe('nats_connection');
    expect(error?.message).toContain('wd2');
  }, 30_000);
});

describe('a remote watch started once the client gave its connection up', () => {
  it('fails with nats_connection closed naming the session, as a read made then does', async () => {
    await fx().runtime(fx().buckets());
    const link = await startTcpProxy(fx().server.url);
    onTestFinished(() => link.close());
    const statuses: NatsConnectionStatus[] = [];
    const client = await fx().client({
      servers: link.url,
      reconnect: { maxAttempts: 1, waitMs: 100 },
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
    });
    const session = await client.session('wd3');
    link.cut();
    // nats.js tries once more, finds the proxy refusing, and closes the connection: the client's `closed` settles.
    await client.closed;
    expect(statuses).toContain('disconnected');

    const error = await session.watchVariables('*', () => {}).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'closed' });
    expect((error as Error).message).toMatch(/; watch of session 'wd3' not started$/);
    // A read made then fails alike: the watch is no odd one out.
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'nats_connection', status: 'closed' });
  }, 15_000);
});
