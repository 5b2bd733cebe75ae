/**
 * The raw operations the KV store is built from: reading a key's last message (a delete marker included) and
 * publishing a put, a delete marker or a purge marker (a rollup of the key) with a compare-and-set expectation,
 * getting the stream sequence back.
 * `kv.delete` in nats.js discards the publish ack, and the store must return a delete's revision, so writes go
 * straight to the bucket's stream with the same subject and headers nats.js uses.
 *
 * On a replicated bucket (a stream of more than one replica), nats-server before 2.9.21 checks a publish's
 * expected last sequence only before proposing it to its peers (nats-server#4320): concurrent writes expecting the
 * same revision of a key, from two nodes say, are all accepted, and compare-and-set loses updates. The server's
 * duplicate detection does count writes in flight, so there each compare-and-set write also carries the message
 * id `<key>@<expected revision>`: of the writes expecting one revision, one is stored and the others are told
 * `duplicate`, a conflict. A later write with that id could only expect a revision the key has left behind, a
 * conflict anyway, except "absent" (0): a key removed with its markers (a deleted session's) is absent again, and
 * within the duplicate window a write creating it again repeats the id of the write that created it before, which
 * is gone. Told `duplicate` for a key still absent, such a write tries again with the id chained on that write's
 * sequence (`<key>@0:<sequence>`), which every writer meeting the same old id shares: one of them is stored.
 * A bucket of one replica is checked in order and gets no id (ids cost the server memory for its duplicate
 * window, two minutes).
 *
 * Every operation rides through an election of the stream's leader (retry-unavailable.ts): reads run again, and
 * writes are published again only where that cannot apply them twice (kv-write-fate.ts).
 * @module
 */
import {
  headers,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { InternalError, StoreConflictError, StoreUnavailableError, type BridgeError } from '../errors.js';
import { jetStreamMessageOf, jetStreamRefusal, noJetStream } from './jetstream-refusal.js';
import { deletedBy } from './kv-updated-by.js';
import { writeFate, newWriteId, WRITE_ID_HEADER } from './kv-write-fate.js';
import { apiErrorCode } from './jetstream-api-error.js';
import {
  deadlineOf,
  PROBE_TIMEOUT_MS,
  retryRead,
  unavailability,
  unavailableError,
  waitForStream,
  type RetryScope,
} from './retry-unavailable.js';

/** The last message of a key: a put (live) or a delete/purge marker. */
export interface LastWrite {
  readonly revision: number;
  readonly live: boolean;
  /** The stored bytes of a put; empty for a marker. */
  readonly data: Uint8Array;
  /** Who deleted, for a delete marker that names someone (its `Tether-Updated-By` header, kv-updated-by.ts). */
  readonly updatedBy?: string;
  /** When the server stored it (ms since epoch, the server's clock). */
  readonly writtenAt: number;
}

/** What a write publishes. */
export interface RawWrite {
  readonly key: string;
  /** `purge`: a marker that also removes every earlier message of the key (`Nats-Rollup: sub`), as `kv.purge` does. */
  readonly operation: 'put' | 'delete' | 'purge';
  readonly data: Uint8Array;
  /** The stream sequence the key's last message must have; 0 = no message at all; undefined = no check. */
  readonly expectLast?: number;
  /** Extra headers, e.g. the commit a write belongs to, or who deletes (kv-updated-by.ts). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** JetStream's "wrong last sequence" API error code (KV compare-and-set failure). */
const WRONG_LAST_SEQUENCE = 10071;
const EMPTY = new Uint8Array(0);

/** The stream behind the KV bucket `bucket` (as nats.js names it). */
export const kvStream = (bucket: string): string => `KV_${bucket}`;

/** The subject of `key` in the KV bucket `bucket` (or, with a key ending in `>`, the subjects under it). */
export const kvSubject = (bucket: string, key: string): string => `$KV.${bucket}.${key}`;

/**
 * The bucket's stream, its subjects, and a JetStream client to publish with. Every operation rides through an
 * election of the stream's leader (see retry-unavailable.ts): it waits until `until` (by default
 * `unavailableRetryMs` from its start; a commit passes one deadline to all its parts) and then rejects with
 * `StoreUnavailableError`.
 */
export interface KvBucket extends BucketSide {
  readonly kv: KV;
  readonly js: JetStreamClient;
  /** The replicas of its stream, as bound. */
  readonly replicas: number;
  /** The bucket's side of the retries: its stream, the probe, the bound. */
  readonly retry: RetryScope;
  /** Reads the key's last message, markers included; `undefined` when the key was never written. */
  readLast(key: string, until?: number): Promise<LastWrite | undefined>;
  /**
   * Whether `last`, a key's last message, holds a value: a put whose bytes the binding's `holdsValue` takes for one.
   * A key without one is absent to a write that expects it absent, at its last message's revision.
   */
  holdsValue(key: string, last: LastWrite | undefined): boolean;
  /**
   * Publishes one write; resolves to its revision, rejects with a conflict, an {@link InternalError}, a
   * `StoreUnavailableError`, a `StoreLimitError`, or the `NatsConnectionError` (`refused`) of a subject the NATS
   * permissions refuse. A compare-and-set write is applied at most once, also when a publish of it got no answer
   * (see kv-write-fate.ts; outcome `unknown` when the key was written past its kept history meanwhile, and what became
   * of it cannot be read); a write without an expected revision is not published again after that. A
   * purge is retried as any write: its rollup removes only the key's messages before its own, so its marker is
   * still the first after the expected revision when kv-write-fate.ts looks.
   */
  publish(write: RawWrite, until?: number): Promise<number>;
  /**
   * Publishes a write that expects the key absent: never written, or deleted (its last message a marker, or a put
   * that holds no value, whose revision the expectation must name), with `headers` as {@link RawWrite.headers}.
   * Rejects with a `StoreConflictError` when the key holds a value (see {@link KvBucket.holdsValue}).
   */
  writeIfAbsent(
    key: string,
    operation: RawWrite['operation'],
    data: Uint8Array,
    until?: number,
    headers?: RawWrite['headers'],
  ): Promise<number>;
  /**
   * Runs `read`, a read of the bucket's stream that changes nothing (stream info, message gets), again through an
   * election; its other failures reject with `failed(error)`.
   */
  read<T>(
    operation: string,
    key: string,
    read: () => Promise<T>,
    failed: (error: unknown) => Error,
    until?: number,
  ): Promise<T>;
}

/** How a bucket opened as `kv` on `js` is bound: see {@link kvBucket}. */
export interface KvBucketBinding {
  readonly js: JetStreamClient;
  readonly kv: KV;
  readonly name: string;
  /** The replicas of its stream; more than one: compare-and-set writes carry a message id (module comment). */
  readonly replicas: number;
  /** How long one operation waits for the stream through an election, in ms. */
  readonly retryMs: number;
  /**
   * Whether the bytes of a put under `key` are a value of the store over the bucket (kv-values.ts); a put whose
   * bytes are not counts as absent where a write expects the key absent. @default every put holds a value
   */
  readonly holdsValue?: (key: string, data: Uint8Array) => boolean;
}

/**
 * The retry scope of the KV bucket `bucket`: its stream, a probe on `connection`, the bound `retryMs`. For stream
 * operations of a bucket outside {@link KvBucket} (listing and purging a session's subjects, say).
 */
export async function kvRetryScope(connection: NatsConnection, bucket: string, retryMs: number): Promise<RetryScope> {
  return {
    bucket,
    stream: kvStream(bucket),
    // No requests here: a manager without the API check is only a client object.
    probe: await connection.jetstreamManager({ checkAPI: false, timeout: PROBE_TIMEOUT_MS }),
    retryMs,
    // Read at the error: after a reconnect the connection may be on another server.
    jetStreamHere: () => connection.info?.jetstream === true,
  };
}

/** Binds raw operations to a bucket; `connection` is the one `js` came from (its probes go there too). */
export async function kvBucket(connection: NatsConnection, binding: KvBucketBinding): Promise<KvBucket> {
  const { js, kv, name, replicas, holdsValue = () => true } = binding;
  const retry = await kvRetryScope(connection, name, binding.retryMs);
  const stream = retry.stream;
  let reader: JetStreamManager | undefined;

  const readLast = async (key: string): Promise<LastWrite | undefined> => {
    const entry = await kv.get(key);
    if (entry === null) return undefined;
    const { revision } = entry;
    const writtenAt = entry.created.getTime();
    if (entry.operation === 'PUT') return { revision, live: true, data: entry.value, writtenAt };
    const updatedBy = deletedBy(entry);
    return { revision, live: false, data: EMPTY, writtenAt, ...(updatedBy === undefined ? {} : { updatedBy }) };
  };

  /** Whether `key` has no message at all; `false` when that cannot be read (the caller then takes a conflict). */
  const stillAbsent = (key: string): Promise<boolean> =>
    readLast(key).then(
      (last) => last === undefined,
      () => false,
    );

  /** The fate of an unanswered write (first sent at `started`) that was then refused; a read, retried. */
  const fateOf = async (
    write: RawWrite,
    expectLast: number,
    id: string,
    started: number,
    until: number,
  ): Promise<number> => {
    const subject = kvSubject(name, write.key);
    reader ??= await js.jetstreamManager(false);
    const jsm = reader;
    const fate = await retryRead(
      retry,
      { operation: write.operation, key: write.key },
      until,
      () => writeFate(jsm, stream, subject, expectLast, id),
      (error) => wrap(error, write.operation, write.key, side),
      'unknown',
    );
    if (fate.kind === 'ours') return fate.revision;
    if (fate.kind === 'theirs') throw new StoreConflictError(write.key, expectLast, fate.revision);
    // The bucket's outage left it unknown, as for a write that could not be sent again: not a fault of the node's.
    throw new StoreUnavailableError(
      name,
      write.key,
      write.operation,
      Math.max(0, Math.round(performance.now() - started)),
      'unknown',
      {
        reason: `no answer, and the key's writes after revision ${expectLast}, which would tell, are no longer all kept`,
        details: { expectedRevision: expectLast },
      },
    );
  };

  const side = { name, connection };
  const bucket: KvBucket = {
    kv,
    js,
    name,
    connection,
    replicas,
    retry,
    holdsValue: (key, last) => last?.live === true && holdsValue(key, last.data),
    async readLast(key, until) {
      const started = performance.now();
      // The first attempt outside the retry loop: the hot path pays nothing for it.
      try {
        return await readLast(key);
      } catch (error) {
        const failed = (failure: unknown): Error => wrap(failure, 'get', key, side);
        if (unavailability(error) === undefined) throw failed(error);
        const op = { operation: 'get', key };
        const deadline = until ?? started + retry.retryMs;
        await waitForStream(retry, op, deadline, error, failed, 'not_applied');
        return retryRead(retry, op, deadline, () => readLast(key), failed);
      }
    },
    async publish(write, until) {
      const h = headers();
      if (write.operation === 'delete') h.set('KV-Operation', 'DEL');
      if (write.operation === 'purge') {
        h.set('KV-Operation', 'PURGE');
        h.set('Nats-Rollup', 'sub');
      }
      for (const [name, value] of Object.entries(write.headers ?? {})) h.set(name, value);
      const expectLast = write.expectLast;
      const id = expectLast === undefined ? undefined : newWriteId();
      if (id !== undefined) h.set(WRITE_ID_HEADER, id);
      let msgID = expectLast !== undefined && replicas > 1 ? `${write.key}@${expectLast}` : undefined;
      /** Old ids of the key's earlier lives met so far (see the module comment). */
      let staleIds = 0;
      const base = {
        headers: h,
        ...(expectLast === undefined ? {} : { expect: { lastSubjectSequence: expectLast } }),
      };
      const subject = kvSubject(name, write.key);
      const data = write.operation === 'put' ? write.data : EMPTY;
      const started = performance.now();
      let deadline = until;
      // Whether an attempt got no answer: it may have been stored, so a refusal must look at whose write won.
      let unanswered = false;
      for (;;) {
        let ack;
        try {
          ack = await js.publish(subject, data, msgID === undefined ? base : { ...base, msgID });
        } catch (error) {
          if (expectLast !== undefined && id !== undefined && isWrongLastSequence(error)) {
            if (unanswered) return fateOf(write, expectLast, id, started, (deadline ??= started + retry.retryMs));
            throw new StoreConflictError(write.key, expectLast, actualFrom(error), { cause: error });
          }
          const kind = unavailability(error);
          if (kind === undefined) throw wrap(error, write.operation, write.key, side);
          deadline ??= started + retry.retryMs;
          const op = { operation: write.operation, key: write.key };
          // Without an expected revision nothing tells a second copy from the first: not published again.
          if (kind === 'unanswered' && id === undefined) throw unavailableError(retry, op, deadline, 'unknown', error);
          unanswered ||= kind === 'unanswered';
          const failed = (failure: unknown): Error => wrap(failure, write.operation, write.key, side);
          await waitForStream(retry, op, deadline, error, failed, unanswered ? 'unknown' : 'not_applied');
          continue;
        }
        // Another write expecting the same revision was stored (at `ack.seq`); this one was not, unless an
        // unanswered attempt of it was that write.
        if (ack.duplicate && expectLast !== undefined && id !== undefined) {
          if (expectLast === 0 && staleIds < STALE_IDS_MAX && (await stillAbsent(write.key))) {
            staleIds += 1;
            msgID = `${write.key}@0:${ack.seq}`;
            continue;
          }
          if (unanswered) return fateOf(write, expectLast, id, started, (deadline ??= started + retry.retryMs));
          throw new StoreConflictError(write.key, expectLast, ack.seq);
        }
        return ack.seq;
      }
    },
    async writeIfAbsent(key, operation, data, until, extra) {
      let expectLast = 0;
      // What the last refused attempt expected and found: the conflict reported when every attempt was refused.
      let refused = { expected: 0, found: 0 };
      const deadline = until ?? deadlineOf(retry);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        try {
          return await bucket.publish(
            { key, operation, data, expectLast, ...(extra === undefined ? {} : { headers: extra }) },
            deadline,
          );
        } catch (error) {
          if (!(error instanceof StoreConflictError)) throw error;
          refused = { expected: expectLast, found: error.actualRevision };
          const last = await bucket.readLast(key, deadline);
          if (last && bucket.holdsValue(key, last))
            throw new StoreConflictError(key, 0, last.revision, { cause: error });
          // Deleted, removed with its markers since the refusal (a session deleted meanwhile), or last written with
          // bytes that are no value: absent each way, so the write is tried again against what the key holds now.
          expectLast = last?.revision ?? 0;
        }
      }
      throw new StoreConflictError(key, refused.expected, refused.found);
    },
    read(operation, key, read, failed, until) {
      return retryRead(retry, { operation, key }, until ?? deadlineOf(retry), read, failed);
    },
  };
  return bucket;
}

/**
 * How many old ids of a key's earlier lives a write creating it passes (see the module comment): one per life of
 * the key created and removed within the server's two-minute duplicate window.
 */
const STALE_IDS_MAX = 64;

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

/** The bucket an operation was of and the connection it went on, as its error names them. */
export interface BucketSide {
  readonly name: string;
  readonly connection: NatsConnection;
}

/**
 * Wraps a library error of an operation on the bucket `side` at the boundary, keeping it as `cause`: a subject the
 * NATS permissions refuse is a `NatsConnectionError` (`refused`), a JetStream limit reached a `StoreLimitError`
 * (jetstream-refusal.ts), anything else an `InternalError` (saying so when an open finds no JetStream).
 */
export function wrap(error: unknown, operation: string, key: string, side: BucketSide): BridgeError {
  const refused = jetStreamRefusal(error, { connection: side.connection, bucket: side.name, operation, key });
  if (refused !== undefined) return refused;
  const message = (operation === 'open' ? noJetStream(error) : undefined) ?? jetStreamMessageOf(error);
  return new InternalError(`store ${operation} of '${key}' failed: ${message}`, {
    cause: error,
    details: { operation, key },
  });
}
