/**
 * How variable records are stored in the KV bucket: JSON with each value through the variable codec. Plain
 * `JSON.stringify` turns a float variable's `NaN` or `Infinity` into `null` without a word, and every node that
 * loads the record (or the writing node itself, when the watch echo overtakes the commit's ack) would then hold
 * `null`. Records come back frozen, as the session code expects.
 * @module
 */
import { decodeValue, encodeValue } from '../variables/codec.js';
import type { VariableRecord } from '../variables/types.js';
import type { StoreCodec } from './kv-store.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The KV codec for variable records. */
export function variableRecordCodec(): StoreCodec<VariableRecord> {
  return {
    encode: (record) => encoder.encode(JSON.stringify({ ...record, value: encodeValue(record.type, record.value) })),
    decode(data) {
      const record = JSON.parse(decoder.decode(data)) as VariableRecord;
      return Object.freeze({ ...record, value: decodeValue(record.type, record.value) });
    },
  };
}
