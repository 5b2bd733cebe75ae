/**
 * The store a NATS node runs on: the JetStream KV store (records through the variable codec) wrapped by the
 * tracking store, with the router's starting point read from the bucket stream. One call, so a node cannot forget the wrapping (without it the
 * service has no revisions to wait for and no events to publish).
 * @module
 */
import type { NatsConnection } from 'nats';
import { ValidationError } from '../errors.js';
import type { VariableRecord } from '../variables/types.js';
import { createKvStore, type KvStore, type KvStoreOptions } from './kv-store.js';
import { recordLimitFor, variableRecordCodec } from './record-codec.js';
import { recordLimitInBucket } from './bucket-value-room.js';
import { createTrackingStore, type TrackingStore } from './tracking-store.js';
import { bucketLastRevision, bucketNextKept } from './bucket-stream.js';
import { DEFAULT_MAX_PAYLOAD } from './wire.js';
import { WatchOutage } from './watch-outage.js';

/** A node's store: the tracking store, plus the resumption of its router's watch after an outage. */
export interface NodeStore extends TrackingStore {
  /** The copies the variables bucket's stream keeps, as found when it was opened. */
  readonly replicas: number;
  /** The largest encoded record a write may store (see {@link NodeStoreOptions.maxRecordBytes}). */
  readonly recordLimit: number;
  /**
   * The connection dropped: the router's watch is down until {@link NodeStore.resumeWatches} has it back, and a
   * wait for a revision that times out meanwhile goes on (see watch-outage.ts).
   */
  suspendWatches(): void;
  /** Reopens the router's watch right after the last change it delivered; see {@link KvStore.resumeWatches}. */
  resumeWatches(): void;
}

/**
 * Options of {@link createNodeStore}: those of the KV store (the codec and the limit of a delete's `updatedBy` are
 * fixed), plus where tracking failures go.
 */
export interface NodeStoreOptions extends Omit<KvStoreOptions<VariableRecord>, 'codec' | 'maxUpdatedByBytes'> {
  readonly onTrackingError?: (error: unknown) => void;
  /** See `TrackingStoreOptions.commitHoldMs`. @default 1000 */
  readonly commitHoldMs?: number;
  /**
   * Largest encoded variable record (value, constraints, description, metadata) a write may store; a bigger one
   * is refused with `ValidationError` and nothing is written. It can only be lowered: above the default, a
   * change's event (old and new value) could exceed the server's `max_payload` and never be published. A delete's
   * `updatedBy` has the same limit (as its marker's header encodes it): its event carries it with the old value. It
   * also has the limit of every marker's header, 60000 bytes (`MAX_UPDATED_BY_HEADER_BYTES` in kv-updated-by.ts).
   * A variables bucket given a max value size (its stream's `max_msg_size`) lowers it further, to that size
   * less room for a lock owner, headers and a batch's mark (`RECORD_ROOM_BYTES`, bucket-value-room.ts).
   * @default (server max_payload − 4 KiB) / 2, e.g. 522240 bytes for the default 1 MiB
   */
  readonly maxRecordBytes?: number;
}

/** The record limit of a node on `connection`: the option when given and valid, else the most events allow. */
export function nodeRecordLimit(connection: NatsConnection, maxRecordBytes?: number): number {
  const maxPayload = connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  const most = recordLimitFor(maxPayload);
  if (most < 1) {
    throw new ValidationError(`the NATS server's max_payload of ${maxPayload} bytes is too small for a tether node`, {
      details: { constraint: 'maxPayload', maxPayload },
    });
  }
  if (maxRecordBytes === undefined) return most;
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1 || maxRecordBytes > most) {
    throw new ValidationError(
      `maxRecordBytes must be a whole number from 1 to ${most} (half the server's max_payload of ${maxPayload} ` +
        `bytes, less room for the event's other fields), got ${maxRecordBytes}`,
      { details: { constraint: 'maxRecordBytes', maxRecordBytes, most, maxPayload } },
    );
  }
  return maxRecordBytes;
}

/**
 * Opens the variables bucket and wraps it for a node.
 * @example
 * const store = await createNodeStore(nc);
 * const runtime = await Runtime.start({ store });
 * const service = await startSessionService(nc, provider, { store });
 */
export async function createNodeStore(connection: NatsConnection, options: NodeStoreOptions = {}): Promise<NodeStore> {
  const bucket = options.bucket ?? 'tether_vars';
  const { onTrackingError, maxRecordBytes, commitHoldMs, ...kvOptions } = options;
  const most = nodeRecordLimit(connection, maxRecordBytes);
  let limit = most;
  const kv = await createKvStore<VariableRecord>(connection, {
    ...kvOptions,
    bucket,
    // An operator's value limit on the bucket is the node's too: a write over it is refused as one over the node's
    // own, before anything is written, rather than failing at the server (bucket-value-room.ts).
    fitToBucket(maxValueSize) {
      limit = recordLimitInBucket(bucket, most, maxValueSize);
      const limitReason =
        limit < most
          ? `KV bucket '${bucket}' takes messages of at most ${maxValueSize} bytes, which also hold a lock owner, ` +
            "headers and a batch's mark"
          : undefined;
      const codec = variableRecordCodec({ maxBytes: limit, ...(limitReason === undefined ? {} : { limitReason }) });
      return { codec, maxUpdatedByBytes: limit };
    },
  });
  const outage = new WatchOutage();
  const tracking = createTrackingStore(kv, {
    outage,
    lastRevision: () => bucketLastRevision(connection, bucket),
    nextKept: (after) => bucketNextKept(connection, bucket, after),
    onBehind: () => kv.checkWatches(),
    bucket,
    ...(onTrackingError ? { onError: onTrackingError } : {}),
    ...(commitHoldMs !== undefined ? { commitHoldMs } : {}),
  });
  // Assigned onto the tracking store rather than spread into a copy: its revisions are getters.
  return Object.assign(tracking, {
    replicas: kv.replicas,
    recordLimit: limit,
    suspendWatches: () => outage.began(),
    resumeWatches: () => outage.endsWith(kv.resumeWatches()),
  });
}
