/**
 * How a KV store reads its values back from a bucket's bytes, and what it makes of a put it cannot read.
 *
 * Only the store writes its bucket, but anything with access can put a message there (`nats kv put`). A put whose
 * bytes the codec cannot read is no value of the store's: every read takes it as the key holding no value at that
 * revision, as a delete marker there would be. So all nodes agree on it (a watch drops what the key held before,
 * a load leaves it out), and a write expecting the key absent (`create`, a define) takes the key back by
 * compare-and-set against that revision. A key's `history` leaves it out (told, naming the key and revision): it
 * has no version to show in its place.
 * @module
 */
import type { InternalError } from '../errors.js';
import { deleteChange, type StoreChange } from '../store/store.js';
import { isMarked, markOf, withoutMark } from './commit-mark.js';
import type { StoreCodec } from './store-codec.js';
import { unreadableValue } from './kv-unreadable.js';

/** A put's bytes read: its value, or why they are none. */
export type ReadValue<V> =
  { readonly ok: true; readonly value: V } | { readonly ok: false; readonly error: InternalError };

/** Reads a KV store's values from a bucket's bytes. */
export interface KvValueReader<V> {
  /** The bytes of a put under `key` read; a commit's mark (commit-mark.ts) is not part of the value. */
  read(key: string, data: Uint8Array): ReadValue<V>;
  /** The value of a put under `key`; bytes that are none throw an `InternalError` naming the key. */
  decode(key: string, data: Uint8Array): V;
  /** Whether the bytes of a put under `key` are a value of the store (see the module comment). */
  holdsValue(key: string, data: Uint8Array): boolean;
}

/** The reader over `codec`. */
export function kvValueReader<V>(codec: StoreCodec<V>): KvValueReader<V> {
  const read = (key: string, data: Uint8Array): ReadValue<V> => {
    try {
      return { ok: true, value: codec.decode(withoutMark(data), key) };
    } catch (error) {
      return { ok: false, error: unreadableValue(key, error) };
    }
  };
  return {
    read,
    decode(key, data) {
      const result = read(key, data);
      if (!result.ok) throw result.error;
      return result.value;
    },
    holdsValue: (key, data) => read(key, data).ok,
  };
}

/**
 * The change a put the codec cannot read stands for: no value under `key` from `revision` on, a delete naming
 * nobody. One that a commit marked stays marked, so a router holding the commit's writes still counts it
 * (commit-holdback.ts).
 */
export function unreadableChange<V>(key: string, revision: number, data: Uint8Array): StoreChange<V> {
  const change = deleteChange<V>(key, revision, undefined);
  const commit = isMarked(data) ? markOf(data) : undefined;
  return commit ? { ...change, commit } : change;
}
