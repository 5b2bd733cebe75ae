/**
 * How a KV store turns a value into the bytes it puts: only into bytes a reader takes back for that value
 * (kv-values.ts reads them), refusing before anything is written a value that would not come back as it was put.
 * @module
 */
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { isMarked } from './commit-mark.js';
import type { StoreCodec } from './store-codec.js';

/**
 * The encoder over `codec`: the bytes of a value to put under `key`, refused (`ValidationError`, nothing written)
 * when they could not be read back as it: a value JSON has no form for (`undefined`, a function, a BigInt, a cycle),
 * or one whose JSON starts with the field that marks a commit's writes (commit-mark.ts), which a reader would take
 * for one.
 * @example
 * const encode = valueEncoder(jsonStoreCodec<VariableRecord>());
 * encode('s1/temperature', record); // the bytes to put
 */
export function valueEncoder<V>(codec: StoreCodec<V>): (key: string, value: V) => Uint8Array {
  return (key: string, value: V): Uint8Array => {
    let data: Uint8Array;
    try {
      data = codec.encode(value);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw unstorable(key, messageOf(error), error);
    }
    if (data.length === 0) throw unstorable(key, 'JSON has no form for it');
    if (isMarked(data)) throw unstorable(key, `its first field is '~tc', which marks the writes of a commit`);
    return data;
  };
}

/** The refusal of a value the store could not read back as it was put under `key`. */
function unstorable(key: string, why: string, cause?: unknown): ValidationError {
  return new ValidationError(`the value for store key '${key}' cannot be stored: ${why}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { key },
  });
}
