/**
 * The raw operations the KV store is built from: reading a key's last message (a delete marker included) and
 * publishing a put or a delete marker with a compare-and-set expectation, getting the stream sequence back.
 * `kv.delete` in nats.js discards the publish ack, and the store must return a delete's revision, so writes go
 * straight to the bucket's stream with the same subject and headers nats.js uses.
 * @module
 */
import { headers, type JetStreamClient, type KV, type NatsError } from 'nats';
import { InternalError, StoreConflictError } from '../errors.js';

/** The last message of a key: a put (live) or a delete/purge marker. */
export interface LastWrite {
  readonly revision: number;
  readonly live: boolean;
  /** The stored bytes of a put; empty for a marker. */
  readonly data: Uint8Array;
}

/** What a write publishes. */
export interface RawWrite {
  readonly key: string;
  readonly operation: 'put' | 'delete';
  readonly data: Uint8Array;
  /** The stream sequence the key's last message must have; 0 = no message at all; undefined = no check. */
  readonly expectLast?: number;
  /** Extra headers, e.g. the commit a write belongs to. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** JetStream's "wrong last sequence" API error code (KV compare-and-set failure). */
const WRONG_LAST_SEQUENCE = 10071;
const EMPTY = new Uint8Array(0);

/** The stream behind the KV bucket `bucket` (as nats.js names it). */
export const kvStream = (bucket: string): string => `KV_${bucket}`;

/** The subject of `key` in the KV bucket `bucket` (or, with a key ending in `>`, the subjects under it). */
export const kvSubject = (bucket: string, key: string): string => `$KV.${bucket}.${key}`;

/** The JetStream API error code a library error carries, if any (e.g. 10071 wrong last sequence). */
export function apiErrorCode(error: unknown): number | undefined {
  return (error as Partial<NatsError> | undefined)?.api_error?.err_code;
}

/** The bucket's stream, its subjects, and a JetStream client to publish with. */
export interface KvBucket {
  readonly kv: KV;
  readonly js: JetStreamClient;
  readonly name: string;
  /** Reads the key's last message, markers included; `undefined` when the key was never written. */
  readLast(key: string): Promise<LastWrite | undefined>;
  /** Publishes one write; resolves to its revision, rejects with a conflict or an {@link InternalError}. */
  publish(write: RawWrite): Promise<number>;
}

/** Binds raw operations to a bucket named `name` opened as `kv` on `js`. */
export function kvBucket(js: JetStreamClient, kv: KV, name: string): KvBucket {
  return {
    kv,
    js,
    name,
    async readLast(key) {
      let entry;
      try {
        entry = await kv.get(key);
      } catch (error) {
        throw wrap(error, 'get', key);
      }
      if (entry === null) return undefined;
      return {
        revision: entry.revision,
        live: entry.operation === 'PUT',
        data: entry.operation === 'PUT' ? entry.value : EMPTY,
      };
    },
    async publish(write) {
      const h = headers();
      if (write.operation === 'delete') h.set('KV-Operation', 'DEL');
      for (const [name, value] of Object.entries(write.headers ?? {})) h.set(name, value);
      try {
        const ack = await js.publish(kvSubject(name, write.key), write.operation === 'delete' ? EMPTY : write.data, {
          headers: h,
          ...(write.expectLast === undefined ? {} : { expect: { lastSubjectSequence: write.expectLast } }),
        });
        return ack.seq;
      } catch (error) {
        throw write.expectLast !== undefined && isWrongLastSequence(error)
          ? new StoreConflictError(write.key, write.expectLast, actualFrom(error), { cause: error })
          : wrap(error, write.operation, write.key);
      }
    },
  };
}

/** Whether a publish failed its compare-and-set expectation. */
export function isWrongLastSequence(error: unknown): boolean {
  return apiErrorCode(error) === WRONG_LAST_SEQUENCE;
}

/** The server names the key's actual last sequence ("wrong last sequence: 7"); NaN when it does not. */
function actualFrom(error: unknown): number {
  const description = (error as Partial<NatsError> | undefined)?.api_error?.description ?? '';
  const match = /wrong last sequence: (\d+)/.exec(description);
  return match ? Number(match[1]) : Number.NaN;
}

/** Wraps a library error at the boundary, keeping it as `cause`. */
export function wrap(error: unknown, operation: string, key: string): InternalError {
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`store ${operation} of '${key}' failed: ${message}`, {
    cause: error,
    details: { operation, key },
  });
}
