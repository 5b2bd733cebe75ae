/**
 * How a KV store turns its values into the bytes a bucket holds, and back: the seam between the store and what it
 * stores. JSON is the default; variable records have their own codec (record-codec.ts), which keeps float values
 * JSON cannot carry and bounds a record's size.
 * @module
 */

/** Turns values into bytes and back. */
export interface StoreCodec<V> {
  encode(value: V): Uint8Array;
  /** The value stored under `key`; throws for bytes that are no such value. */
  decode(data: Uint8Array, key?: string): V;
  /**
   * `key` was deleted or purged: a codec that keeps something per key it decoded (the variable codec keeps each
   * variable's checked constraints) lets it go, so that nothing of a deleted value stays in memory.
   */
  forget?(key: string): void;
}

/** UTF-8 JSON: `JSON.stringify` / `JSON.parse`. */
export function jsonStoreCodec<V>(): StoreCodec<V> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (data) => JSON.parse(decoder.decode(data)) as V,
  };
}
