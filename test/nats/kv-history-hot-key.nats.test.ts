/**
 * A key's history read while a writer keeps writing it faster than the read's gets are answered: the read goes as far
 * as the key's newest message when it began. Before, it read every write that landed meanwhile, and ended only once
 * the writer paused.
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKvStore } from '../../src/nats/kv-store.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
let nc: NatsConnection;
let writerConnection: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  writerConnection = await connect({ servers: server.url });
});

afterAll(async () => {
  await writerConnection?.close();
  await nc?.close();
  await server?.stop();
});

describe('a KV store history read of a key written back to back', () => {
  it('ends while the writer goes on, with the kept writes up to the newest one when it began', async () => {
    const bucket = `hot_${process.pid}_${Date.now()}`;
    const store = await createKvStore<number>(nc, { bucket });
    const kv = await writerConnection.jetstream().views.kv(bucket);
    // Eight chains of plain puts: many times the rate of the read's one get at a time. A cap keeps a read that never
    // ends from hanging the test; reaching it is the failure.
    const CAP = 40_000;
    let written = 0;
    let stop = false;
    const chain = async (): Promise<void> => {
      while (!stop && written < CAP) await kv.put('s.hot', new TextEncoder().encode(String(++written)));
    };
    const writers = Promise.all(Array.from({ length: 8 }, chain));
    while (written < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = (await kv.get('s.hot'))!.revision;

    const history = await store.history('s.hot');
    const writtenWhenRead = written;
    stop = true;
    await writers;

    expect(writtenWhenRead).toBeLessThan(CAP);
    expect(history.length).toBeGreaterThan(0);
    expect(history.length).toBeLessThanOrEqual(64);
    const revisions = history.map((change) => change.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    // Nothing older than what the key kept when the read began is missing at the end: its newest write then is in.
    expect(revisions.at(-1)!).toBeGreaterThanOrEqual(before);
    await store.close();
  });
});
