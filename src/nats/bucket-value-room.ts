/**
 * What a bucket's own value limit leaves for what a node stores in it. A bucket made beforehand may limit the size
 * of its messages (its stream's `max_msg_size`, `nats stream edit --max-msg-size`), and the server counts a message's
 * headers in it and refuses a bigger one. A node that did not know would accept a write within its own limits and
 * then fail it as the server refused it, as an internal error. So the node takes the operator's limit as its own:
 * its record limit (and the modules bucket's spec limit) goes down to what fits in one message of the bucket, and a
 * write over it is refused before anything is written, as one over the node's own limit is. A bucket that leaves
 * no room at all is refused at start with {@link BucketConfigMismatchError}.
 * @module
 */
import { BucketConfigMismatchError } from '../errors.js';
import { MAX_LOCK_OWNER_LENGTH } from '../variables/record.js';

/**
 * The headers of a write, at most: about 550 bytes for a variable's key (see `MAX_UPDATED_BY_HEADER_BYTES` in
 * kv-updated-by.ts, which lists them), and a margin.
 */
const WRITE_HEADER_BYTES = 640;

/** A batch's mark in front of each record it writes (`{"~tc":"w:<uuid>:<writes>",`, commit-mark.ts), at most. */
const COMMIT_MARK_BYTES = 64;

/**
 * A lock owner at its longest, as the record holds it: every character a six-byte JSON escape, and the quotes. The
 * record limit does not count it (a variable accepted must stay lockable), so the bucket must hold it besides.
 */
const LOCK_OWNER_BYTES = MAX_LOCK_OWNER_LENGTH * 6 + 2;

/** What a message of the variables bucket holds besides the record the limit counts. */
export const RECORD_ROOM_BYTES = WRITE_HEADER_BYTES + COMMIT_MARK_BYTES + LOCK_OWNER_BYTES;

/** The least value size a variables bucket must allow: room for a record of one byte. */
export const LEAST_RECORD_VALUE_BYTES = RECORD_ROOM_BYTES + 1;

/**
 * The least value size a sessions bucket must allow: a session record (its id of at most 128 characters, two
 * times and an incarnation) with its headers takes well under this.
 */
export const SESSION_RECORD_BYTES = 1024;

/**
 * Refuses the bucket `bucket` with {@link BucketConfigMismatchError} (setting `maxValueSize`) when its value limit,
 * `maxValueSize` (`undefined` for none), is below `least` bytes.
 */
export function assertValueRoom(bucket: string, maxValueSize: number | undefined, least: number): void {
  if (maxValueSize !== undefined && maxValueSize < least) {
    throw new BucketConfigMismatchError(bucket, 'maxValueSize', least, maxValueSize);
  }
}

/**
 * The record limit of a node on the variables bucket `bucket`: its own `limit`, or less when the bucket's value
 * limit `maxValueSize` holds less than that and {@link RECORD_ROOM_BYTES} (a record as big as the limit, with the
 * longest lock owner, in a batch, must still fit in one message).
 * @throws {BucketConfigMismatchError} when the bucket's value limit leaves no room for a record
 */
export function recordLimitInBucket(bucket: string, limit: number, maxValueSize: number | undefined): number {
  if (maxValueSize === undefined) return limit;
  assertValueRoom(bucket, maxValueSize, LEAST_RECORD_VALUE_BYTES);
  return Math.min(limit, maxValueSize - RECORD_ROOM_BYTES);
}
