/**
 * How large a module spec may be as the modules bucket stores it (module-specs.ts): one message of the bucket less
 * room for its headers, the message bounded by the server's `max_payload` or, when less, by the bucket's own value
 * limit (see bucket-value-room.ts).
 * @module
 */
import type { NatsConnection } from 'nats';
import { ValidationError } from '../errors.js';
import { assertValueRoom } from './bucket-value-room.js';

/**
 * Room a spec leaves in one message of the modules bucket: for its headers (expected revision, message id: a few
 * hundred bytes), and so that a reply carrying the spec (a describe, a list of one) still fits.
 */
const SPEC_HEADROOM_BYTES = 1024;

/** The least value size a modules bucket must allow: room for a spec of one byte. */
export const LEAST_SPEC_VALUE_BYTES = SPEC_HEADROOM_BYTES + 1;

/**
 * The size check of the specs written to the modules bucket `bucket` on `connection`, whose value limit is
 * `maxValueSize` (`undefined` for none): it throws `ValidationError` for an encoded spec too large for one message of
 * the bucket with its headers (see {@link SPEC_HEADROOM_BYTES}).
 * @throws {BucketConfigMismatchError} when the bucket's value limit leaves no room for a spec
 */
export function specRoom(
  connection: NatsConnection,
  bucket: string,
  maxValueSize: number | undefined,
): (data: Uint8Array, sessionId: string, moduleId: string) => void {
  // A spec must fit in one message of the bucket with its headers: of the server's, and of the bucket's own limit.
  assertValueRoom(bucket, maxValueSize, LEAST_SPEC_VALUE_BYTES);
  const maxPayload = connection.info?.max_payload ?? Infinity;
  const byBucket = maxValueSize !== undefined && maxValueSize < maxPayload ? maxValueSize : undefined;
  const specLimit = (byBucket ?? maxPayload) - SPEC_HEADROOM_BYTES;
  const specLimitWhy = byBucket === undefined ? "the server's max_payload" : "the bucket's max value size";
  return (data, sessionId, moduleId) => {
    // A spec that fits in a request (instructions near max_payload) may not fit in the bucket's message with its
    // headers: refused as the caller's input, not passed on as the server's MAX_PAYLOAD_EXCEEDED (internal_error).
    if (data.length > specLimit)
      throw new ValidationError(
        `module '${moduleId}' spec is ${data.length} bytes as stored, over the ${specLimit} bytes a message of the ` +
          `modules bucket can hold (${specLimitWhy} less its headers); shorten its instructions`,
        {
          details: {
            field: 'spec',
            constraint: 'maxBytes',
            size: data.length,
            limit: specLimit,
            sessionId,
            moduleId,
          },
        },
      );
  };
}
