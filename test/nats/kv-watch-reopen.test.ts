/**
 * A bucket watch reopening after an outage (src/nats/kv-watch.ts) while JetStream stays unavailable, against a fake
 * consumer on fake timers: it never gives up, and says once that it is slow to come back.
 */
import { ErrorCode, NatsError, type NatsConnection } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InternalError, NatsConnectionError, StoreUnavailableError } from '../../src/errors.js';
import { SLOW_REOPEN_ATTEMPTS } from '../../src/nats/kv-watch-consumer.js';
import { openKvChangeWatch } from '../../src/nats/kv-change-watch.js';
import { publishRefusedError } from '../../src/nats/permission-refusal.js';
import { watchKv, type KvWatchHandle } from '../../src/nats/kv-watch.js';
import { watchOptionsFor } from '../../src/nats/kv-watch-options.js';
import { FakeKv } from '../support/fake-kv-watch.js';

let handle: KvWatchHandle | undefined;

const noResponders = (): NatsError => NatsError.errorForCode(ErrorCode.NoResponders);

beforeEach(() => void vi.useFakeTimers());
afterEach(() => {
  handle?.stop();
  vi.useRealTimers();
});

describe('a bucket watch reopening while JetStream is unavailable', () => {
  // Found by a review: after about a minute of failed attempts the watch ended, and a node applied no other node's
  // writes again (its read-your-writes requests all timing out) until it was restarted.
  it('tries until a consumer opens, however long it takes, told once it is slow, and delivers from there', async () => {
    const kv = new FakeKv();
    kv.streamLast = 10;
    const batches: number[][] = [];
    const ends: unknown[] = [];
    const slow = vi.fn();
    handle = watchKv(
      kv.asKv(),
      'p.',
      { kind: 'live' },
      (entries) => batches.push(entries.map((entry) => entry.revision)),
      (error) => ends.push(error),
      { reopenSlow: slow },
    );
    await vi.advanceTimersByTimeAsync(0);
    kv.consumer.send(11);
    await vi.advanceTimersByTimeAsync(0);

    const outage = 3 * SLOW_REOPEN_ATTEMPTS;
    kv.failing = Array.from({ length: outage }, (_, i) => new Error(`503 JetStream not enabled (${i + 1})`));
    let reopened = false;
    void handle.resume().then(() => (reopened = true));
    // Three minutes or so of refusals, each answered at once.
    for (let second = 0; second < 200 && kv.failing.length > 0; second++) await vi.advanceTimersByTimeAsync(1000);
    expect(kv.failing).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reopened).toBe(true);
    expect(kv.watches).toHaveLength(1 + outage + 1);
    expect(kv.watches.at(-1)).toMatchObject({ resumeFromRevision: 12 });
    expect(slow.mock.calls).toEqual([[new Error(`503 JetStream not enabled (${SLOW_REOPEN_ATTEMPTS})`)]]);
    expect(ends).toEqual([]);

    kv.consumer.send(12);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches.flat()).toEqual([11, 12]);
  });

  it("is told to a store's watch as slow to reopen, naming its prefix, and not as ended", async () => {
    const kv = new FakeKv();
    const watches = new Set<KvWatchHandle>();
    const slow: [unknown, string][] = [];
    const ended: unknown[] = [];
    const watch = openKvChangeWatch<number>(
      {
        kv: kv.asKv(),
        consumerOptions: {},
        toChange: (key, _operation, revision) => ({ operation: 'delete', key, revision }),
        unreadableChange: (key, revision) => ({ operation: 'delete', key, revision }),
        report: () => {},
        reportEnd: (error) => ended.push(error),
        reportSlowReopen: (error, prefix) => slow.push([error, prefix]),
        watches,
      },
      's1.',
      { kind: 'live' },
      { each: () => {} },
    );
    await vi.advanceTimersByTimeAsync(0);
    kv.failing = Array.from({ length: SLOW_REOPEN_ATTEMPTS + 5 }, () => new Error('503'));
    void [...watches][0]!.resume();
    for (let second = 0; second < 120 && kv.failing.length > 0; second++) await vi.advanceTimersByTimeAsync(1000);
    expect(slow).toEqual([[new Error('503'), 's1.']]);
    expect(ended).toEqual([]);
    watch.stop();
  });

  /**
   * A watch of `p.` in `tether_vars` as a store opens it (the bucket as `watchOptionsFor` names it, on a connection
   * whose server INFO says `jetstream`), reopened while every attempt fails with `failure()`; what `reopenSlow` is told.
   */
  async function slowReopen(jetstream: boolean, failure: () => unknown = noResponders): Promise<unknown[]> {
    const kv = new FakeKv();
    const connection = { info: { jetstream: true }, getServer: () => 'nats://127.0.0.1:4222' };
    const slow: unknown[] = [];
    handle = watchKv(
      kv.asKv(),
      'p.',
      { kind: 'live' },
      () => {},
      () => {},
      {
        bucket: watchOptionsFor(connection as unknown as NatsConnection, 'tether_vars', 1000).bucket!,
        reopenSlow: (error) => slow.push(error),
      },
    );
    await vi.advanceTimersByTimeAsync(0);
    // Reconnected to the server as it came back: its INFO is the one read from now on.
    connection.info.jetstream = jetstream;
    kv.failing = Array.from({ length: SLOW_REOPEN_ATTEMPTS + 5 }, failure);
    void handle.resume();
    for (let second = 0; second < 120 && kv.failing.length > 0; second++) await vi.advanceTimersByTimeAsync(1000);
    return slow;
  }

  // Found in review: a node whose NATS server came back without JetStream reported a bare "503" (nats.js's own
  // NatsError) a minute later, naming neither the bucket nor what was wrong, where its start says it plainly.
  it('tells a reopen slow to come back as store_unavailable naming the bucket and a server now without JetStream', async () => {
    const slow = await slowReopen(false);
    expect(slow).toHaveLength(1);
    const [error] = slow as [StoreUnavailableError];
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.details).toMatchObject({ bucket: 'tether_vars', key: 'p.', operation: 'watch', stillTrying: true });
    expect(error.message).toBe(
      "KV bucket 'tether_vars' was unavailable (JetStream is not enabled on this NATS server (start nats-server with " +
        "-js, or give its config a jetstream block)): a reopen of the watch of the keys under 'p.' is still trying",
    );
    expect((error.cause as NatsError).code).toBe('503');
  });

  it('tells a reopen slow to come back on a server that runs JetStream as no leader answering, for how long', async () => {
    const [error] = (await slowReopen(true)) as [StoreUnavailableError];
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toMatch(
      /^KV bucket 'tether_vars' had no JetStream leader answering for \d+ ms: a reopen of the watch of the keys under 'p\.' is still trying$/,
    );
    expect(error.waitedMs).toBeGreaterThan(30_000);
  });

  // Found in review: a server back with JetStream but without its store (a container started without its volume)
  // answers "stream not found", for good; the node said "no JetStream leader answering ... is still trying", the
  // answer kept only as the cause.
  it("tells a reopen slow because the bucket is gone as the bucket failing, in JetStream's words, not as no leader", async () => {
    const notFound = new NatsError('stream not found', '404');
    notFound.api_error = { code: 404, err_code: 10059, description: 'stream not found' };
    const [error] = (await slowReopen(true, () => notFound)) as [InternalError];
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toBe(
      "a reopen of the watch of the keys under 'p.' in KV bucket 'tether_vars' failed: stream not found",
    );
    expect(error.details).toMatchObject({ bucket: 'tether_vars', key: 'p.', operation: 'watch' });
    expect(error.cause).toBe(notFound);
  });

  it('tells a reopen slow because the NATS permissions refuse it as refused, naming the subject, not as no leader', async () => {
    const subject = '$JS.API.CONSUMER.CREATE.KV_tether_vars';
    const [error] = (await slowReopen(true, () => publishRefusedError(subject))) as [NatsConnectionError];
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error.status).toBe('refused');
    expect(error.details).toMatchObject({ subject, operation: 'publish', bucket: 'tether_vars', key: 'p.>' });
    expect(error.message).toBe(
      "refused by NATS permissions (nats://127.0.0.1:4222); watch of 'p.>' in KV bucket 'tether_vars' not sent: " +
        `Permissions Violation for Publish to "${subject}"`,
    );
  });
});
