/**
 * The raw operations the KV store is built from: reading a key's last message (a delete marker included) and
 * publishing a put or a delete marker with a compare-and-set expectation, getting the stream sequence back.
 * `kv.delete` in nats.js discards the publish ack, and the store must return a delete's revision, so writes go
 * straight to the bucket's stream with the same subject and headers nats.js uses.
 *
 * On a replicated bucket (a stream of more than one replica), nats-server before 2.9.21 checks a publish's
 * expected last sequence only before proposing it to its peers (nats-server#4320): concurrent writes expecting the
 * same revision of a key, from two nodes say, are all accepted, and compare-and-set loses updates. The server's
 * duplicate detection does count writes in flight, so there each compare-and-set write also carries the message
 * id `<key>@<expected revision>`: of the writes expecting one revision, one is stored and the others are told
 * `duplicate`, a conflict. A later write with that id could only expect a revision the key has left behind, a
 * conflict anyway. A bucket of one replica is checked in order and gets no id (ids cost the server memory for its
 * duplicate window, two minutes).
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
  /** `purge`: a marker that also removes every earlier message of the key (`Nats-Rollup: sub`), as `kv.purge` does. */
  readonly operation: 'put' | 'delete' | 'purge';
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
  /**
   * Publishes a write that expects the key absent: never written, or deleted (its last message a marker, whose
   * revision the expectation must name). Rejects with a `StoreConflictError` when the key holds a value.
   */
  writeIfAbsent(key: string, operation: RawWrite['operation'], data: Uint8Array): Promise<number>;
}

/**
 * Binds raw operations to a bucket named `name` opened as `kv` on `js`, whose stream runs `replicas` replicas
 * (more than one: compare-and-set writes carry a message id, see the module comment).
 */
export function kvBucket(js: JetStreamClient, kv: KV, name: string, replicas: number): KvBucket {
  const bucket: KvBucket = {
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
      if (write.operation === 'purge') {
        h.set('KV-Operation', 'PURGE');
        h.set('Nats-Rollup', 'sub');
      }
      for (const [name, value] of Object.entries(write.headers ?? {})) h.set(name, value);
      const expectLast = write.expectLast;
      let ack;
      try {
        ack = await js.publish(kvSubject(name, write.key), write.operation === 'put' ? write.data : EMPTY, {
          headers: h,
          ...(expectLast === undefined ? {} : { expect: { lastSubjectSequence: expectLast } }),
          ...(expectLast !== undefined && replicas > 1 ? { msgID: `${write.key}@${expectLast}` } : {}),
        });
      } catch (error) {
        throw expectLast !== undefined && isWrongLastSequence(error)
          ? new StoreConflictError(write.key, expectLast, actualFrom(error), { cause: error })
          : wrap(error, write.operation, write.key);
      }
      // Another write expecting the same revision was stored (at `ack.seq`); this one was not.
      if (ack.duplicate && expectLast !== undefined) throw new StoreConflictError(write.key, expectLast, ack.seq);
      return ack.seq;
    },
    async writeIfAbsent(key, operation, data) {
      let expectLast = 0;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        try {
          return await bucket.publish({ key, operation, data, expectLast });
        } catch (error) {
          if (!(error instanceof StoreConflictError)) throw error;
          const last = await bucket.readLast(key);
          if (last === undefined || last.live)
            throw new StoreConflictError(key, 0, last?.revision ?? 0, { cause: error });
          expectLast = last.revision;
        }
      }
      throw new StoreConflictError(key, 0, expectLast);
    },
  };
  return bucket;
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
