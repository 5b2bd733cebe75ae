import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { createKvStore } from '../../src/nats/kv-store.js';
import { bucketLastRevision } from '../../src/nats/bucket-stream.js';
import { variableRecordCodec } from '../../src/nats/record-codec.js';
import { createTrackingStore } from '../../src/nats/tracking-store.js';
import type { Store, StoreWatch } from '../../src/store/store.js';
import { createVariableRecord } from '../../src/variables/record.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

describe('tracking store on a KV bucket', () => {
  it('counts a write that lands while the router watch opens as applied', async () => {
    const connection = await connect({ servers: fx().server.url });
    const { variablesBucket: bucket } = fx().buckets();
    const kv = await createKvStore<VariableRecord>(connection, { bucket, codec: variableRecordCodec() });
    const record = createVariableRecord({
      id: 'i',
      name: 't',
      type: 'integer',
      value: 1,
      options: {},
      at: new Date(0).toISOString(),
    });
    let injected = 0;
    // Another node writes right before this router's watch opens: after any last-revision read made before it.
    const racing: Store<VariableRecord> = {
      ...kv,
      watch(prefix, listener, options) {
        if (prefix !== '') return kv.watch(prefix, listener, options);
        let watch: StoreWatch | undefined;
        const ready = (async () => {
          injected = await kv.create('s.t', record);
          watch = kv.watch(prefix, listener, options);
          await watch.ready;
        })();
        return { ready, stop: () => watch?.stop() };
      },
    };
    const store = createTrackingStore(racing, { lastRevision: () => bucketLastRevision(connection, bucket) });
    const router = store.watch('', () => {}, { includeCurrent: false });
    await router.ready;

    expect(injected).toBeGreaterThan(0);
    // Unfixed, the router starts from the revision before the write and never sees it: every read-your-writes
    // request at that revision would wait for a write that never comes.
    expect(store.appliedRevision).toBeGreaterThanOrEqual(injected);
    router.stop();
    await store.close();
    await connection.close();
  });
});
