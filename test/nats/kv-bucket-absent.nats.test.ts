import type { KV } from 'nats';
import { describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/errors.js';
import { kvBucket } from '../../src/nats/kv-bucket.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const plain = usePlainConnection(useNatsFixture());

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A bucket whose first read of `key` is preceded by `meanwhile`: what another node does between a refused write and
 * the read that looks at why.
 */
async function bucketWithRace(name: string, key: string, meanwhile: (kv: KV) => Promise<void>) {
  const js = plain().jetstream();
  const kv = await js.views.kv(name, { history: 5 });
  let raced = false;
  const racing = new Proxy(kv, {
    get(target, property, receiver) {
      if (property !== 'get') return Reflect.get(target, property, receiver);
      return async (read: string) => {
        if (read === key && !raced) {
          raced = true;
          await meanwhile(kv);
        }
        return target.get(read);
      };
    },
  });
  return { kv, bucket: await kvBucket(plain(), { js, kv: racing, name, replicas: 1, retryMs: 2_000 }) };
}

/** Removes `key` with every message of it, markers included, as a session's deletion does. */
async function removeEntirely(name: string, key: string): Promise<void> {
  const jsm = await plain().jetstreamManager();
  const kv = await plain().jetstream().views.kv(name);
  await kv.purge(key);
  const marker = await jsm.streams.getMessage(`KV_${name}`, { last_by_subj: `$KV.${name}.${key}` });
  await jsm.streams.deleteMessage(`KV_${name}`, marker.seq, false);
}

describe('writeIfAbsent', () => {
  it('creates a key that another writer created and then removed entirely between the refusal and its read', async () => {
    const name = `absent_race_${process.pid}_${Date.now()}`;
    const { kv, bucket } = await bucketWithRace(name, 'k', () => removeEntirely(name, 'k'));
    await kv.create('k', encoder.encode('theirs'));

    const revision = await bucket.writeIfAbsent('k', 'put', encoder.encode('ours'));

    const entry = await kv.get('k');
    expect(entry?.revision).toBe(revision);
    expect(decoder.decode(entry!.value)).toBe('ours');
  });

  it('creates a key that another writer deleted between the refusal and its read, over its marker', async () => {
    const name = `absent_deleted_${process.pid}_${Date.now()}`;
    const { kv, bucket } = await bucketWithRace(name, 'k', (raw) => raw.delete('k').then(() => undefined));
    await kv.create('k', encoder.encode('theirs'));

    const revision = await bucket.writeIfAbsent('k', 'put', encoder.encode('ours'));

    const history = [];
    for await (const entry of await kv.history({ key: 'k' })) history.push(entry.operation);
    expect(history).toEqual(['PUT', 'DEL', 'PUT']);
    expect((await kv.get('k'))?.revision).toBe(revision);
  });

  it('refuses a key that holds a value, naming the revision it is at, and writes nothing', async () => {
    const name = `absent_live_${process.pid}_${Date.now()}`;
    const { kv, bucket } = await bucketWithRace(name, 'k', async () => {});
    const theirs = await kv.create('k', encoder.encode('theirs'));

    const refused = await bucket.writeIfAbsent('k', 'put', encoder.encode('ours')).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(StoreConflictError);
    expect(refused).toMatchObject({ code: 'store_conflict', key: 'k', expectedRevision: 0, actualRevision: theirs });
    expect(decoder.decode((await kv.get('k'))!.value)).toBe('theirs');
  });
});
