/**
 * The sessions bucket's stream read message by message, with no consumer (nats-server#3481), for the session directory
 * (session-directory.ts): its records and removals' markers in the order they were last written (what the expiry scan
 * walks), and when the server stored a write (a bound of the server's clock, see server-clock.ts).
 * @module
 */
import type { JetStreamClient } from 'nats';
import type { InternalError } from '../errors.js';
import { kvStream, kvSubject, type KvBucket } from './kv-bucket.js';
import { noMessage } from './jetstream-api-error.js';
import type { ServerTimeSample } from './server-clock.js';
import type { ReadRecord, SessionRecord } from './session-record.js';

/** What a scan finds: a record (`found`), or a removal's marker (a tombstone); when the bucket took it (ms). */
export interface Scanned {
  readonly sequence: number;
  readonly sessionId: string;
  readonly found?: ReadRecord;
  readonly writtenAt: number;
}

/** What {@link SessionStreamReads} reads through. */
export interface SessionStreamDeps {
  readonly js: JetStreamClient;
  /** The bucket, through which each read rides an election of its stream's leader (kv-bucket.ts). */
  readonly raw: KvBucket;
  readonly bucket: string;
  /** The record a value holds, or `undefined` for one that is none (told as the directory tells it). */
  readonly recordOf: (sessionId: string, data: Uint8Array, revision: number) => SessionRecord | undefined;
  /** The directory's error for a failed `operation` of `key`. */
  readonly boundary: (error: unknown, operation: string, key: string) => InternalError;
}

/** Reads of the sessions bucket's stream by message, and this node's last write to it not read back yet. */
export class SessionStreamReads {
  readonly #deps: SessionStreamDeps;
  /** This node's last write to the bucket not read back yet, and when it was acknowledged (`performance.now()`). */
  #ownLast: { readonly revision: number; readonly ackedAt: number } | undefined;

  constructor(deps: SessionStreamDeps) {
    this.#deps = deps;
  }

  /** Notes a write of this node's own to the bucket, acknowledged now at `revision`; returns `revision`. */
  wrote(revision: number): number {
    this.#ownLast = { revision, ackedAt: performance.now() };
    return revision;
  }

  /** Whether this node wrote the bucket since {@link SessionStreamReads.serverTime} last read. */
  ownWriteUnread(): boolean {
    return this.#ownLast !== undefined;
  }

  /** The first record or tombstone written at or after `sequence`, as `SessionDirectory.oldest` answers. */
  async oldest(sequence: number): Promise<Scanned | undefined> {
    const { js, raw, bucket, recordOf, boundary } = this.#deps;
    // Message gets by subject, no consumer (nats-server#3481), as a key's history is read (see kv-history.ts).
    const manager = await js.jetstreamManager(false);
    const subjects = kvSubject(bucket, '');
    const request = { seq: sequence, next_by_subj: `${subjects}>` };
    for (;;) {
      // Each get is read again through an election; past the last message there is nothing to wait for.
      const message = await raw.read(
        'scan',
        bucket,
        () => manager.streams.getMessage(kvStream(bucket), request).catch(noMessage),
        (error) => boundary(error, 'scan', bucket),
      );
      if (!message) return undefined;
      const operation = message.header.get('KV-Operation');
      // The key names the session, whatever the record says.
      const scanned = { sequence: message.seq, sessionId: message.subject.slice(subjects.length) };
      const writtenAt = message.time.getTime();
      if (operation === 'PURGE' || operation === 'DEL') return { ...scanned, writtenAt };
      if (!operation || operation === 'PUT') {
        // Not a record (the bucket is shared, anything with access can write there): no session, passed by.
        const record = recordOf(scanned.sessionId, message.data, message.seq);
        if (record) return { ...scanned, writtenAt, found: { record, revision: message.seq, writtenAt } };
      }
      request.seq = message.seq + 1;
    }
  }

  /**
   * A bound of the server's clock, as `SessionDirectory.serverTime` answers: exact the first time after a write of this
   * node's own, read back; else from the stream's last write.
   */
  async serverTime(): Promise<ServerTimeSample | undefined> {
    const { js, raw, bucket, boundary } = this.#deps;
    const manager = await js.jetstreamManager(false);
    const stream = kvStream(bucket);
    const failed = (error: unknown): InternalError => boundary(error, 'clock', bucket);
    const own = this.#ownLast;
    this.#ownLast = undefined;
    if (own) {
      const seq = own.revision;
      const message = await raw.read(
        'clock',
        bucket,
        () => manager.streams.getMessage(stream, { seq }).catch(noMessage),
        failed,
      );
      // Gone already (the key written again since): the stream's last write tells instead.
      if (message) return { serverTime: message.time.getTime(), monotonic: own.ackedAt, exact: true };
    }
    const info = await raw.read('clock', bucket, () => manager.streams.info(stream), failed);
    const readAt = performance.now();
    const { last_seq: lastSeq, last_ts: lastTs } = info.state;
    return lastSeq === 0 ? undefined : { serverTime: Date.parse(lastTs), monotonic: readAt };
  }
}
