import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { InternalError, ValidationError } from '../../src/errors.js';
import { nodeRecordLimit } from '../../src/nats/node-store.js';
import { EVENT_HEADROOM_BYTES, recordLimitFor, variableRecordCodec } from '../../src/nats/record-codec.js';
import { createVariableRecord } from '../../src/variables/record.js';
import { MAX_JSON_DEPTH, Runtime, type VariableRecord } from '../../src/index.js';

const connectionWith = (maxPayload: number) => ({ info: { max_payload: maxPayload } }) as unknown as NatsConnection;

describe('record codec', () => {
  const record = createVariableRecord({
    id: 'id-1',
    name: 'ratio',
    type: 'float',
    value: Number.NaN,
    options: {},
    at: '2024-01-01T00:00:00.000Z',
  });

  it('round-trips a record, non-finite floats included, and freezes what it decodes', () => {
    const codec = variableRecordCodec();
    const decoded = codec.decode(codec.encode(record));
    expect(decoded).toEqual(record);
    expect(Object.isFrozen(decoded)).toBe(true);
  });

  it('decodes value, constraints and metadata deep-frozen, as embedded sessions hand them out', () => {
    const codec = variableRecordCodec();
    const json = createVariableRecord({
      id: 'id-2',
      name: 'cfg',
      type: 'json',
      value: { a: [1] },
      options: { constraints: { shape: { type: 'object' } }, metadata: { tags: ['x'] } },
      at: '2024-01-01T00:00:00.000Z',
    });
    const decoded = codec.decode(codec.encode(json));
    expect(decoded).toEqual(json);
    expect(Object.isFrozen((decoded.value as { a: number[] }).a)).toBe(true);
    expect(Object.isFrozen((decoded.constraints as { shape: object }).shape)).toBe(true);
    expect(Object.isFrozen((decoded.metadata as { tags: string[] }).tags)).toBe(true);
  });

  it('decodes a json value at the deepest nesting a write accepts', async () => {
    // The deepest value an embedded define takes, found by trying: the codec must read back whatever was stored.
    const runtime = await Runtime.start();
    try {
      const session = await runtime.session('deep');
      let value: unknown = 1;
      let deepest: VariableRecord | undefined;
      for (let depth = 0; depth <= MAX_JSON_DEPTH + 1; depth++) {
        const defined = await session.defineVariable(`v${depth}`, 'json', value).catch(() => undefined);
        if (!defined) break;
        deepest = defined;
        value = [value];
      }
      expect(deepest).toBeDefined();
      const codec = variableRecordCodec();
      expect(codec.decode(codec.encode(deepest!))).toEqual(deepest);
    } finally {
      await runtime.stop();
    }
  });

  it('refuses a stored record nested absurdly deep with a typed error, not a stack overflow', () => {
    // No node writes one (writes stop at MAX_JSON_DEPTH); a raw writer to the bucket could.
    const json = createVariableRecord({
      id: 'i',
      name: 'x',
      type: 'json',
      value: 1,
      options: {},
      at: record.createdAt,
    });
    const text = JSON.stringify(json).replace('"value":1', `"value":${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const decode = () => variableRecordCodec().decode(new TextEncoder().encode(text));
    expect(decode).toThrow(InternalError);
    expect(decode).toThrow(/malformed variable record: x: must be a JSON value nested at most \d+ levels/);
  });

  it('refuses a stored record whose value its own variable refuses, as a write of it would be refused', () => {
    // Found by a review: such a record, put around the nodes, was read as it was and reached modules.
    const codec = variableRecordCodec();
    const options = { constraints: { max: 1 } };
    const bounded = createVariableRecord({
      id: 'i',
      name: 'ratio',
      type: 'float',
      value: 0.5,
      options,
      at: record.createdAt,
    });
    const data = new TextEncoder().encode(JSON.stringify({ ...bounded, value: 1.8 }));
    expect(() => codec.decode(data, 's.ratio')).toThrow(InternalError);
    expect(() => codec.decode(data, 's.ratio')).toThrow(
      'malformed variable record: ratio: value 1.8 is above maximum 1',
    );
  });

  it('accepts a record of exactly its limit and refuses one byte more, naming the variable and both sizes', () => {
    const size = variableRecordCodec().encode(record).length;
    expect(variableRecordCodec({ maxBytes: size }).encode(record)).toHaveLength(size);
    let refusal: unknown;
    try {
      variableRecordCodec({ maxBytes: size - 1 }).encode(record);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      variable: 'ratio',
      details: { constraint: 'maxRecordBytes', size, limit: size - 1 },
    });
    expect((refusal as Error).message).toContain(`variable 'ratio' is ${size} bytes encoded`);
  });

  it('does not count a lock owner, so a record at its limit can still be locked', () => {
    const size = variableRecordCodec().encode(record).length;
    const limited = variableRecordCodec({ maxBytes: size });
    const locked = Object.freeze({ ...record, lockedBy: 'ö'.repeat(256) });
    expect(limited.decode(limited.encode(locked))).toEqual(locked);
    expect(() => variableRecordCodec({ maxBytes: size - 1 }).encode(locked)).toThrow(`is ${size} bytes encoded`);
  });
});

describe('node record limit', () => {
  it('is half of max_payload less the event headroom, so two records and an event envelope fit', () => {
    expect(recordLimitFor(1024 * 1024)).toBe((1024 * 1024 - EVENT_HEADROOM_BYTES) / 2);
    expect(nodeRecordLimit(connectionWith(1024 * 1024))).toBe(522240);
  });

  it('takes a lower maxRecordBytes and refuses a higher one, or one that is not a whole number', () => {
    const connection = connectionWith(65536);
    expect(nodeRecordLimit(connection, 1000)).toBe(1000);
    for (const bad of [recordLimitFor(65536) + 1, 0, 1.5]) {
      expect(() => nodeRecordLimit(connection, bad)).toThrow(ValidationError);
    }
    expect(() => nodeRecordLimit(connection, 40_000)).toThrow(
      `maxRecordBytes must be a whole number from 1 to ${recordLimitFor(65536)}`,
    );
    expect(() => nodeRecordLimit(connection, 0)).toThrow(
      expect.objectContaining({
        details: { constraint: 'maxRecordBytes', maxRecordBytes: 0, most: recordLimitFor(65536), maxPayload: 65536 },
      }),
    );
  });

  it('refuses a server whose max_payload leaves no room for a record', () => {
    let refusal: unknown;
    try {
      nodeRecordLimit(connectionWith(4096));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      message: "the NATS server's max_payload of 4096 bytes is too small for a tether node",
      details: { constraint: 'maxPayload', maxPayload: 4096 },
    });
  });
});
