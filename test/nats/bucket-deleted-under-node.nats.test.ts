/**
 * A bucket deleted while nodes run on it (`nats kv del`, `nats stream rm KV_<bucket>`: an operator's mistake, or a
 * store wiped under a running server). A node's write there finds no stream listening (no responders, which nats.js
 * reports as a bare "503"), its read no answer (a direct get times out after 5 s), and its probe of the stream then
 * finds it gone: the operation fails with `internal_error` saying the stream was not found, rather than with
 * nats.js's "503", which names nothing (found in an audit: `tether var set` said "store put of 's1.n' failed: 503").
 */
import { connect as connectNats } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError, Runtime } from '../../src/index.js';
import { createEchoModel } from '../../src/modules/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server?.stop());

/** Deletes the stream of KV bucket `bucket` as `nats kv del` does. */
async function deleteBucket(bucket: string): Promise<void> {
  const nc = await connectNats({ servers: server.url });
  try {
    await (await nc.jetstreamManager()).streams.delete(`KV_${bucket}`);
  } finally {
    await nc.close();
  }
}

/** A node on buckets of its own, named after `name`, with a variable defined in session `s1`. */
async function nodeWithSession(name: string, unavailableRetryMs?: number) {
  const buckets = { variablesBucket: `${name}_v`, sessionsBucket: `${name}_s`, modulesBucket: `${name}_m` };
  const runtime = await Runtime.start({
    llm: createEchoModel(),
    nats: { servers: server.url, ...buckets, ...(unavailableRetryMs === undefined ? {} : { unavailableRetryMs }) },
    onError: () => {},
  });
  const session = await runtime.session('s1');
  await session.defineVariable('n', 'integer', 1);
  return { runtime, session, buckets };
}

/** Expects `failure` to be the internal_error of a stream gone, not nats.js's bare "503". */
function expectStreamGone(failure: unknown): void {
  expect(failure).toBeInstanceOf(InternalError);
  expect((failure as Error).message).toContain('stream not found');
  expect((failure as Error).message).not.toMatch(/\b503\b/);
}

describe('a bucket deleted under a running node', () => {
  it('fails a write to the variables bucket at once with internal_error saying its stream was not found', async () => {
    const { runtime, session, buckets } = await nodeWithSession('vars_gone');
    try {
      await deleteBucket(buckets.variablesBucket);
      expectStreamGone(await session.setVariable('n', 2).catch((e: unknown) => e));
    } finally {
      await runtime.stop();
    }
  });

  it('fails the open of a new session with internal_error saying the sessions stream was not found', async () => {
    const { runtime, buckets } = await nodeWithSession('sessions_gone');
    try {
      await deleteBucket(buckets.sessionsBucket);
      expectStreamGone(await runtime.session('s2').catch((e: unknown) => e));
    } finally {
      await runtime.stop();
    }
  });

  // Found in a review: a read gets no answer from a deleted stream until its own 5 s timeout; with a shorter
  // unavailableRetryMs the deadline had passed by then, no probe was made, and the read failed with store_unavailable
  // saying the bucket had no JetStream leader answering, which sent the operator looking for an election.
  it('fails a read with internal_error saying its stream was not found, also with unavailableRetryMs under the read timeout', async () => {
    const { runtime, session, buckets } = await nodeWithSession('read_gone', 1000);
    try {
      await deleteBucket(buckets.variablesBucket);
      // A define reads the key first (a direct get, which no server answers for a stream gone).
      expectStreamGone(await session.defineVariable('m', 'integer', 1).catch((e: unknown) => e));
    } finally {
      await runtime.stop();
    }
  }, 30_000);
});
