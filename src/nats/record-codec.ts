/**
 * How variable records are stored in the KV bucket: JSON with each value through the variable codec. Plain
 * `JSON.stringify` turns a float variable's `NaN` or `Infinity` into `null` without a word, and every node that
 * loads the record (or the writing node itself, when the watch echo overtakes the commit's ack) would then hold
 * `null`. Records come back deep-frozen, as embedded sessions hand them out: value, constraints and metadata
 * included, since the node keeps the decoded record as its state and writes it back to the bucket; a caller who
 * changed what it was handed would otherwise change the stored variable, or its constraints, behind every check.
 * A record read back must also be one a node could have written (stored-record.ts): every field of its kind, its
 * constraints and its value as a definition and a write accept them. Anything else in the bucket was put there around
 * the nodes, and is refused as it is read, naming its key (the store's reads and watches leave it out and report it).
 *
 * Records also have a size limit on a NATS node. The change event of a write carries the old and the new value
 * in one core NATS message, and the server refuses any message over its `max_payload`: a write the store accepted
 * but whose event could not be published would be missed by every watcher. So a record may take at most half of
 * `max_payload`, less an allowance for the event's other fields ({@link recordLimitFor}); a bigger one is refused
 * as it is encoded, before anything is written. A lock's owner does not count against it: events do not carry it,
 * and a variable whose value was accepted must stay lockable and unlockable. (Owners are at most 256 characters,
 * so the stored record still fits in one message.)
 * @module
 */
import { InternalError, ValidationError } from '../errors.js';
import { encodeValue } from '../variables/codec.js';
import type { VariableRecord } from '../variables/types.js';
import { createStoredRecordReader, type StoredRecordFields } from '../variables/stored-record.js';
import { createStoredConstraints } from '../variables/stored-constraints.js';
import { isVariableType } from '../variables/validate.js';
import { messageOf } from '../printable.js';
import type { StoreCodec } from './store-codec.js';

/**
 * What a change event needs besides its two values' bytes: its field names, session id (at most 128 characters),
 * the session's incarnation (a UUID), version and revision come to some 450 bytes; the rest is margin (the
 * variable's name, type and `updatedBy` are counted in the new record already).
 */
export const EVENT_HEADROOM_BYTES = 4096;

/** The largest encoded record whose change event, old and new value together, fits in `maxPayload` bytes. */
export function recordLimitFor(maxPayload: number): number {
  return Math.floor((maxPayload - EVENT_HEADROOM_BYTES) / 2);
}

/** Options of {@link variableRecordCodec}. */
export interface RecordCodecOptions {
  /** Largest encoded record accepted, its lock owner not counted; a bigger one is a `ValidationError`. @default no limit */
  readonly maxBytes?: number;
  /**
   * Why the limit is what it is, for the error's message.
   * @default "its change event carries the old and the new value in one NATS message"
   */
  readonly limitReason?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes a lock owner adds to an encoded record, over the `null` of an unlocked one. */
function lockOwnerBytes(owner: string | null): number {
  return owner === null ? 0 : encoder.encode(JSON.stringify(owner)).length - 'null'.length;
}

/**
 * The KV codec for variable records. It keeps the checked constraints of the records it decodes, per key and within a
 * byte budget (stored-constraints.ts), until the key is deleted or purged (`forget`).
 */
export function variableRecordCodec(options: RecordCodecOptions = {}): StoreCodec<VariableRecord> {
  const { maxBytes, limitReason = 'its change event carries the old and the new value in one NATS message' } = options;
  const storedConstraints = createStoredConstraints();
  const readRecord = createStoredRecordReader(storedConstraints);
  return {
    encode(record) {
      const data = encoder.encode(JSON.stringify({ ...record, value: encodeValue(record.type, record.value) }));
      if (maxBytes === undefined) return data;
      const size = data.length - lockOwnerBytes(record.lockedBy);
      if (size > maxBytes) {
        throw new ValidationError(
          `variable '${record.name}' is ${size} bytes encoded, over this node's limit of ${maxBytes} bytes ` +
            `per variable (${limitReason})`,
          { variable: record.name, details: { constraint: 'maxRecordBytes', size, limit: maxBytes } },
        );
      }
      return data;
    },
    decode(data, key) {
      const parsed: unknown = JSON.parse(decoder.decode(data));
      if (!isRecordShaped(parsed))
        throw new InternalError('malformed variable record: no name, type, version, id and constraints');
      // Under `<session>.<name>`: one under another key would be a second variable of that name.
      if (key !== undefined && key.slice(key.indexOf('.') + 1) !== parsed.name)
        throw new InternalError(`malformed variable record: it names variable '${parsed.name}'`);
      try {
        return readRecord(parsed, key);
      } catch (error) {
        throw new InternalError(`malformed variable record: ${messageOf(error)}`, { cause: error });
      }
    },
    forget: (key) => storedConstraints.forget(key),
  };
}

/**
 * Whether a stored value has what every variable record has: a message put in the bucket by something else than a
 * node (nothing but nodes may write there) must not join a session as a variable without a name.
 */
function isRecordShaped(parsed: unknown): parsed is StoredRecordFields {
  const record = parsed as { name?: unknown; type?: unknown; version?: unknown; id?: unknown; constraints?: unknown };
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.name === 'string' &&
    isVariableType(record.type) &&
    Number.isSafeInteger(record.version) &&
    typeof record.id === 'string' &&
    typeof record.constraints === 'object' &&
    record.constraints !== null
  );
}
