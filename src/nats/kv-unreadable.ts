/**
 * What a KV store meets in its bucket that it cannot read, as the errors it reports. Only the store should write
 * the bucket, but anything with access to it can publish under its subjects: a value the codec refuses, or a subject
 * that is no store key. The store leaves each one out of what it reads (a listing, a watch, a history) and reports it
 * naming its key, so that one such message does not keep everything else from being read (kv-store.ts).
 * @module
 */
import { InternalError } from '../errors.js';
import { messageOf, printable } from '../printable.js';

/** A value stored under `key` that the codec refused with `error`. */
export function unreadableValue(key: string, error: unknown): InternalError {
  return new InternalError(`store key '${key}' holds a value that cannot be read: ${messageOf(error)}`, {
    cause: error,
    details: { key },
  });
}

/** A kept write of `key`, at `revision`, that `error` says cannot be read: left out of the key's history. */
export function unreadableWrite(key: string, revision: number, error: unknown): InternalError {
  return new InternalError(`${messageOf(error)} (its write at revision ${revision}, left out of its history)`, {
    cause: error,
    details: { key, revision },
  });
}

/**
 * A subject under the bucket's (under `prefix`, for a listing) that is no store key: it cannot be read as one
 * (nats.js refuses its get), so it is left out.
 */
export function foreignKey(key: string, prefix?: string): InternalError {
  const where = prefix === undefined ? '' : ` under '${prefix}'`;
  return new InternalError(
    `store key '${printable(key)}'${where} cannot be read: it is no store key ([A-Za-z0-9_=/-] tokens joined by dots), written around Tether`,
    { details: { key, ...(prefix === undefined ? {} : { prefix }) } },
  );
}
