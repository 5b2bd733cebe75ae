import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, Events, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { createKvStore } from '../../src/nats/kv-store.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

let counter = 0;

/** A server on a fixed port and store dir, restartable in place, and a connection that counts its reconnects. */
async function restartable() {
  const storeDir = await mkdtemp(join(tmpdir(), 'tether-kv-resume-'));
  let server: NatsTestServer = await startNatsServer({ storeDir });
  const port = Number(new URL(server.url).port);
  const nc: NatsConnection = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  let reconnects = 0;
  void (async () => {
    for await (const status of nc.status()) if (status.type === Events.Reconnect) reconnects += 1;
  })();
  counter += 1;
  return {
    nc,
    bucket: `resume_${process.pid}_${Date.now()}_${counter}`,
    stopServer: () => server.stop(),
    async startServer() {
      server = await startNatsServer({ storeDir, port });
      await waitFor(() => reconnects > 0, { timeout: 5000, message: 'the connection is back' });
    },
    async close() {
      await nc.close();
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(process.env.NATS_URL !== undefined)('kv store resumeWatches', () => {
  it('resumes each watch right after its last change, also one that had delivered none', async () => {
    const env = await restartable();
    try {
      const ended: unknown[] = [];
      const store = await createKvStore<number>(env.nc, { bucket: env.bucket, onWatchError: (e) => ended.push(e) });
      await store.create('s.a', 1);
      const early: number[] = [];
      const first = store.watch('', (change) => early.push(change.revision), { includeCurrent: false });
      await first.ready;
      const b = await store.create('s.b', 2);
      await waitFor(() => early.includes(b), { message: 'the first watch sees s.b' });
      // Opened after s.b and given nothing before the restart: it resumes from where its consumer started.
      const late: number[] = [];
      const second = store.watch('', (change) => late.push(change.revision), { includeCurrent: false });
      await second.ready;

      await env.stopServer();
      await env.startServer();
      // Written before the watches are resumed: what a consumer lost with the server must not be skipped.
      const c = await store.create('s.c', 3);
      store.resumeWatches();
      const d = await store.create('s.d', 4);

      await waitFor(() => early.includes(d) && late.includes(d), { timeout: 5000, message: 'both watches see s.d' });
      expect(early).toEqual([b, c, d]);
      expect(late).toEqual([c, d]);
      expect(ended).toEqual([]);
      await store.close();
    } finally {
      await env.close();
    }
  });

  it('resumes a watch started at a revision after its last change, never below that revision', async () => {
    const env = await restartable();
    try {
      const ended: unknown[] = [];
      const store = await createKvStore<number>(env.nc, { bucket: env.bucket, onWatchError: (e) => ended.push(e) });
      const a = await store.create('s.a', 1);
      const b = await store.create('s.b', 2);
      const seen: number[] = [];
      // Past the last revision: 's.c' (a + 2) is below it, 's.d' is the first change this watch is to see.
      const watch = store.watch('', (change) => seen.push(change.revision), { fromRevision: b + 2 });
      await watch.ready;

      await env.stopServer();
      await env.startServer();
      const c = await store.create('s.c', 3);
      store.resumeWatches();
      const d = await store.create('s.d', 4);
      const e = await store.create('s.e', 5);

      await waitFor(() => seen.includes(e), { timeout: 5000, message: 'the resumed watch sees s.e' });
      expect([a, b, c]).toEqual([a, a + 1, a + 2]);
      expect(seen).toEqual([d, e]);
      expect(ended).toEqual([]);
      await store.close();
    } finally {
      await env.close();
    }
  });

  it('keeps trying until JetStream answers when resumed while the server is still away', async () => {
    const env = await restartable();
    try {
      const ended: unknown[] = [];
      const store = await createKvStore<number>(env.nc, { bucket: env.bucket, onWatchError: (e) => ended.push(e) });
      const seen: number[] = [];
      const watch = store.watch('', (change) => seen.push(change.revision), { includeCurrent: false });
      await watch.ready;
      const a = await store.create('s.a', 1);
      await waitFor(() => seen.includes(a), { message: 'the watch sees s.a' });

      await env.stopServer();
      store.resumeWatches();
      await env.startServer();
      const b = await store.create('s.b', 2);
      await waitFor(() => seen.includes(b), { timeout: 8000, message: 'the resumed watch sees s.b' });
      expect(seen).toEqual([a, b]);
      expect(ended).toEqual([]);
      await store.close();
    } finally {
      await env.close();
    }
  });

  it('delivers nothing more once stopped while resuming on a connection that is still away', async () => {
    const env = await restartable();
    try {
      const ended: unknown[] = [];
      const store = await createKvStore<number>(env.nc, {
        bucket: env.bucket,
        onWatchError: (error) => ended.push(error),
      });
      const seen: number[] = [];
      const watch = store.watch('', (change) => seen.push(change.revision), { includeCurrent: false });
      await watch.ready;

      await env.stopServer();
      // The new consumer's request waits for the connection; the watch is stopped before it is answered.
      store.resumeWatches();
      watch.stop();
      await env.startServer();
      await store.create('s.a', 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen).toEqual([]);
      expect(ended).toEqual([]);
      await store.close();
    } finally {
      await env.close();
    }
  });
});
