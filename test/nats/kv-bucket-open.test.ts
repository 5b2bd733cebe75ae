/**
 * Which failures of opening a bucket are waited out: a create that lost a race (the name taken meanwhile) is
 * followed by a read at once; no answer, no responders on a server that runs JetStream, or "temporarily
 * unavailable" wait for the cluster; anything else fails, and so does no responders on a server without
 * JetStream (nothing would change by waiting). While it waits, the probe takes "stream not found" (the meta
 * leader's answer about a bucket not made yet) as the cluster serving again.
 */
import { ErrorCode, NatsError, type JetStreamManager, type KV, type KvStatus, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { InternalError, type BridgeError } from '../../src/errors.js';
import { openKvView, openRetry } from '../../src/nats/kv-bucket-open.js';
import { streamAnswers, type RetryScope } from '../../src/nats/retry-unavailable.js';

/** A JetStream API error as nats.js reports the server's answer. */
function apiError(code: number, description: string): NatsError {
  const error = new NatsError(description, '400');
  error.api_error = { code: 400, err_code: code, description };
  return error;
}

const timeout = NatsError.errorForCode(ErrorCode.Timeout);
const noResponders = NatsError.errorForCode(ErrorCode.NoResponders);
const nameInUse = apiError(10058, 'stream name already in use with a different configuration');
const unavailable = apiError(10008, 'JetStream system temporarily unavailable');
const notFound = apiError(10059, 'stream not found');

describe('openRetry', () => {
  it('reads again at once after a create that lost the race for the name', () => {
    expect(openRetry(nameInUse, true)).toBe('reread');
  });

  // Found in CI: six nodes opening the same buckets at once on a three-server cluster, one open failed with
  // internal_error "stream not found" for a stream another node had just created.
  it('reads again at once after "stream not found", which a stream just created by another node may answer', () => {
    expect(openRetry(notFound, true)).toBe('reread');
  });

  it('waits for the cluster after no answer, no responders or a temporarily unavailable JetStream', () => {
    expect([timeout, noResponders, unavailable].map((error) => openRetry(error, true))).toEqual([
      'wait',
      'wait',
      'wait',
    ]);
  });

  it('fails at once on no responders from a server without JetStream, and on any other failure', () => {
    expect(openRetry(noResponders, false)).toBeUndefined();
    expect(openRetry(timeout, false)).toBe('wait');
    expect(openRetry(apiError(10074, 'replicas > 1 not supported in non-clustered mode'), true)).toBeUndefined();
    expect(openRetry(new Error('bad bucket name'), true)).toBeUndefined();
  });
});

describe('streamAnswers while a bucket is opened', () => {
  const scopeAnswering = (answer: unknown, absentAnswers: boolean): RetryScope => ({
    bucket: 'b',
    stream: 'KV_b',
    retryMs: 1000,
    absentAnswers,
    probe: { streams: { info: () => Promise.reject(answer) } } as unknown as JetStreamManager,
  });

  it('takes "stream not found" for an answer when opening, and for a deleted bucket otherwise', async () => {
    await expect(streamAnswers(scopeAnswering(notFound, true), performance.now() + 1000)).resolves.toBe(true);
    await expect(streamAnswers(scopeAnswering(notFound, false), performance.now() + 1000)).rejects.toBe(notFound);
  });
});

describe('openKvView', () => {
  /** A connection whose opens of the bucket fail with `failures`, in turn, and then bind it; `opens` counts them. */
  function connectionFailing(...failures: unknown[]) {
    let opens = 0;
    const status = { bucket: 'b' } as unknown as KvStatus;
    const kv = async (): Promise<KV> => {
      opens += 1;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return { status: async () => status } as unknown as KV;
    };
    const connection = {
      info: { jetstream: true },
      jetstream: () => ({ views: { kv } }),
      jetstreamManager: async () => ({}),
    } as unknown as NatsConnection;
    return { connection, status, opens: () => opens };
  }

  const failedWith = (error: unknown): BridgeError => new InternalError('open failed', { cause: error });

  // Found by mutation: the read after a lost race could go, failing every node but the winner, with every test passing.
  it('binds the bucket another create made, read again once after this create lost the race for its name', async () => {
    const { connection, status, opens } = connectionFailing(nameInUse);
    await expect(openKvView(connection, 'b', {}, 1000, failedWith)).resolves.toMatchObject({ status });
    expect(opens()).toBe(2);
  });

  it('fails through failed, not again and again, when the name is taken on the read after the race too', async () => {
    const { connection, opens } = connectionFailing(nameInUse, nameInUse);
    const error = await openKvView(connection, 'b', {}, 1000, failedWith).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).cause).toBe(nameInUse);
    expect(opens()).toBe(2);
  });
});
