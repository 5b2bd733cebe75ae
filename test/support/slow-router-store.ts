/**
 * A node store for hand-assembled nodes (assembled-node.ts) that lags the way a slow or distant node does: its
 * watches hand every change on late (in order), and optionally its history reads take longer too.
 */
import type { NatsConnection } from 'nats';
import { createKvStore } from '../../src/nats/kv-store.js';
import { bucketLastRevision } from '../../src/nats/bucket-stream.js';
import { variableRecordCodec } from '../../src/nats/record-codec.js';
import { createTrackingStore, type TrackingStore } from '../../src/nats/tracking-store.js';
import type { Store } from '../../src/store/store.js';
import type { VariableRecord } from '../../src/variables/types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Watches deliver `delayMs` late; history reads, `historyDelayMs` late (default: on time). */
export function slowRouterStore(bucket: string, delayMs: number, historyDelayMs = 0) {
  return async (connection: NatsConnection): Promise<TrackingStore> => {
    const kv = await createKvStore<VariableRecord>(connection, {
      bucket,
      codec: variableRecordCodec(),
      onListenerError: () => {},
    });
    const slow: Store<VariableRecord> = {
      ...kv,
      watch: (prefix, listener, options) =>
        kv.watch(prefix, (change) => void setTimeout(() => listener(change), delayMs), options),
      watchBatches: (prefix, listener, options) =>
        kv.watchBatches(prefix, (changes) => void setTimeout(() => listener(changes), delayMs), options),
      history: async (key) => {
        await sleep(historyDelayMs);
        return kv.history(key);
      },
    };
    return createTrackingStore(slow, { lastRevision: () => bucketLastRevision(connection, bucket), bucket });
  };
}
