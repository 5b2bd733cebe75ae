import { connect, type JetStreamClient, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/errors.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
let nc: NatsConnection;
let counter = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/**
 * `nc`, except that the KV buckets opened through it run `meanwhile` before each read of `key` (told which read it
 * is, from 1): what other nodes do between a session directory's reads.
 */
function racingConnection(key: string, meanwhile: (read: number) => Promise<void>): NatsConnection {
  let reads = 0;
  const racing = (kv: KV): KV =>
    new Proxy(kv, {
      get(target, property, receiver) {
        if (property !== 'get') return Reflect.get(target, property, receiver);
        return async (read: string) => {
          if (read === key) await meanwhile(++reads);
          return target.get(read);
        };
      },
    });
  const js = nc.jetstream();
  const racingJs = new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'views') return Reflect.get(target, property, receiver);
      const views = target.views;
      return { kv: async (...args: Parameters<JetStreamClient['views']['kv']>) => racing(await views.kv(...args)) };
    },
  });
  return new Proxy(nc, {
    get: (target, property, receiver) =>
      property === 'jetstream' ? () => racingJs : Reflect.get(target, property, receiver),
  });
}

/** A fresh bucket, and another node's directory on it that has opened session `s1`. */
async function bucketWithSession() {
  counter += 1;
  const bucket = `open_race_${process.pid}_${Date.now()}_${counter}`;
  const other = await createSessionDirectory(nc, { bucket });
  await other.open('s1');
  return { bucket, other, before: (await other.read('s1'))! };
}

describe('a session directory opening a session another node creates and deletes meanwhile', () => {
  it('creates it anew when the record it was refused for is gone by the time it looks', async () => {
    const { bucket, other, before } = await bucketWithSession();
    // Refused (the record is there), then, before this node reads whether it still is, the other node deletes it.
    const racing = racingConnection('s1', async (read) => {
      if (read === 2) await other.removeAt('s1', before.revision);
    });
    const directory = await createSessionDirectory(racing, { bucket });
    expect(await directory.open('s1')).toBe(true);

    const after = (await other.read('s1'))!;
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(after.record.incarnation).not.toBe(before.record.incarnation);
  });

  it('fails with store_conflict naming the session after three such races in a row, and writes nothing', async () => {
    const { bucket, other } = await bucketWithSession();
    // Before each of this node's reads after a refusal: created again (the refusal's read finds it), then deleted
    // (the read of whether it exists finds nothing).
    const racing = racingConnection('s1', async (read) => {
      if (read % 2 === 0) {
        const live = (await other.read('s1'))!;
        await other.removeAt('s1', live.revision);
      } else if (read > 1) {
        other.forget('s1');
        await other.open('s1');
      }
    });
    const directory = await createSessionDirectory(racing, { bucket });
    const failure = await directory.open('s1').then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(StoreConflictError);
    expect(failure).toMatchObject({ code: 'store_conflict', key: 's1' });
    expect((failure as Error).message).toContain("'s1'");
    // The other node's deletion stands: this node created nothing.
    expect(await other.read('s1')).toBeUndefined();
  });
});
