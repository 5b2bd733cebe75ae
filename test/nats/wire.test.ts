import { describe, expect, it } from 'vitest';
import { SessionError, ValidationError, VersionConflictError } from '../../src/errors.js';
import {
  decodeRecord,
  decodeReply,
  decodeRequest,
  encodeError,
  encodeRecord,
  encodeReply,
  statusOf,
} from '../../src/nats/wire.js';
import type { VariableRecord } from '../../src/variables/types.js';

const enc = new TextEncoder();

describe('wire', () => {
  it('parses a JSON object and refuses everything else as validation_failed', () => {
    expect(decodeRequest(enc.encode('{"name":"t"}'), 100)).toEqual({ name: 't' });
    expect(decodeRequest(new Uint8Array(0), 100)).toEqual({});
    for (const bad of ['{', '[]', '1', 'null', '"x"'])
      expect(() => decodeRequest(enc.encode(bad), 100)).toThrow(ValidationError);
    expect(() => decodeRequest(new Uint8Array([0xff]), 100)).toThrow(ValidationError);
    expect(() => decodeRequest(enc.encode(`{"v":"${'x'.repeat(200)}"}`), 100)).toThrow(
      /exceeds the limit of 100 bytes/,
    );
  });

  it('takes a payload exactly at the limit and refuses one byte more, naming both sizes in the details', () => {
    const body = (length: number) => enc.encode(`{"v":"${'x'.repeat(length - 8)}"}`);
    expect(body(100)).toHaveLength(100);
    expect(decodeRequest(body(100), 100)).toEqual({ v: 'x'.repeat(92) });
    let refusal: unknown;
    try {
      decodeRequest(body(101), 100);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      message: 'payload of 101 bytes exceeds the limit of 100 bytes',
      details: { constraint: 'maxPayload', size: 101, limit: 100 },
    });
  });

  it('says why a body is refused: not JSON, not UTF-8, or JSON that is no object', () => {
    // A client of its own (not the remote client) meets these first: the message must say what was wrong.
    const refusal = (bytes: Uint8Array) => {
      try {
        decodeRequest(bytes, 100);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [bytes, message] of [
      [enc.encode('{'), /^payload is not valid UTF-8 JSON: .*JSON/],
      [new Uint8Array([0x7b, 0xff, 0x7d]), /^payload is not valid UTF-8 JSON: .*utf-8/],
    ] as const) {
      const error = refusal(bytes);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ message: expect.stringMatching(message), details: { constraint: 'json' } });
    }
    for (const text of ['[]', '1', 'null', '"x"']) {
      expect(refusal(enc.encode(text)), text).toMatchObject({
        code: 'validation_failed',
        message: 'payload must be a JSON object',
        details: { constraint: 'json' },
      });
    }
  });

  it('reads a service error with no tether body as internal_error naming its code and description', () => {
    // What a NATS service framework (or a proxy) answers by headers alone: both must reach the caller.
    const decoded = decodeReply(new Uint8Array(0), 'no handler', '503');
    expect(decoded).toMatchObject({ ok: false, revision: 0, error: { code: 'internal_error' } });
    if (!decoded.ok) expect(decoded.error.message).toBe('service error 503: no handler');
  });

  it('reads a reply with no revision, as no node sends one, as a malformed reply rather than a result', () => {
    // Another responder on a tether subject (or a broken proxy) must not pass for a node's answer.
    for (const text of ['{}', '{"result":1}', '[1]', '"x"']) {
      const decoded = decodeReply(enc.encode(text));
      expect(decoded, text).toMatchObject({ ok: false, revision: 0 });
      if (!decoded.ok) expect(decoded.error, text).toMatchObject({ code: 'internal_error' });
      if (!decoded.ok) expect(decoded.error.message, text).toBe('malformed reply from a tether node');
    }
    expect(decodeReply(enc.encode('{"result":null,"revision":0}'))).toEqual({ ok: true, result: null, revision: 0 });
  });

  it('round-trips a reply and rebuilds typed errors with the revision', () => {
    expect(decodeReply(encodeReply({ a: 1 }, 7))).toEqual({ ok: true, result: { a: 1 }, revision: 7 });
    const conflict = encodeError(new VersionConflictError('t', 1, 2), 9);
    expect(conflict.status).toBe(409);
    expect(conflict.description).toBe("version_conflict: variable 't' is at version 2, expected version 1");
    const decoded = decodeReply(conflict.body);
    expect(decoded.ok).toBe(false);
    expect(decoded.revision).toBe(9);
    if (!decoded.ok) expect(decoded.error).toBeInstanceOf(VersionConflictError);
    const missing = decodeReply(encodeError(new SessionError('session_not_found', 's')).body);
    if (!missing.ok) expect(missing.error).toMatchObject({ code: 'session_not_found', sessionId: 's' });
    expect(decodeReply(new Uint8Array(0), 'boom', '500')).toMatchObject({
      ok: false,
      error: { code: 'internal_error' },
    });
  });

  it('carries a modules revision in replies and error replies that have one, and leaves it out otherwise', () => {
    expect(JSON.parse(new TextDecoder().decode(encodeReply(null, 7)))).toEqual({ result: null, revision: 7 });
    expect(decodeReply(encodeReply({ a: 1 }, 7, 3))).toEqual({
      ok: true,
      result: { a: 1 },
      revision: 7,
      modulesRevision: 3,
    });
    expect(decodeReply(encodeError(new SessionError('session_not_found', 's'), 7, 3).body)).toMatchObject({
      ok: false,
      revision: 7,
      modulesRevision: 3,
    });
    expect(decodeReply(encodeError(new SessionError('session_not_found', 's'), 7).body)).not.toHaveProperty(
      'modulesRevision',
    );
  });

  it('keeps error descriptions on one header line', () => {
    expect(encodeError(new Error('two\r\nlines')).description).toBe('internal_error: two lines');
    expect(statusOf('validation_failed')).toBe(400);
    expect(statusOf('noproc')).toBe(503);
  });

  it('cuts a long description to 512 characters, never inside a surrogate pair (found in review)', () => {
    // 'validation_failed: ' is 19 characters: the emoji's escaped halves would end at characters 517 and 523.
    const message = `${'x'.repeat(492)}😀 and more`;
    const { description } = encodeError(new ValidationError(message));
    expect(description).toBe(`validation_failed: ${'x'.repeat(492)}`);
    // Its first half fits whole, its second would be cut: neither is sent.
    expect(encodeError(new ValidationError(`${'x'.repeat(487)}😀 and more`)).description).toBe(
      `validation_failed: ${'x'.repeat(487)}`,
    );
    expect(encodeError(new ValidationError('y'.repeat(600))).description).toHaveLength(512);
  });

  it('keeps a description to printable ASCII, every other character as a \\u escape, and never cuts one', () => {
    // A client that reads header values only as ASCII (nats.py before 2.15) would lose every header of the reply.
    expect(encodeError(new ValidationError('Zoë\tleft…')).description).toBe(
      'validation_failed: Zo\\u00eb\\u0009left\\u2026',
    );
    // The escape of 'é' would take characters 510 to 515: it goes whole.
    const { description } = encodeError(new ValidationError(`${'x'.repeat(490)}é`));
    expect(description).toBe(`validation_failed: ${'x'.repeat(490)}`);
    expect(description).toMatch(/^[\x20-\x7e]*$/);
  });

  it('carries non-finite floats as strings and only floats decode them', () => {
    const record = { name: 'r', type: 'float', value: Number.NaN, version: 1 } as unknown as VariableRecord;
    const wire = encodeRecord(record);
    expect(JSON.parse(JSON.stringify(wire)).value).toBe('NaN');
    expect(decodeRecord(JSON.parse(JSON.stringify(wire))).value).toBeNaN();
    expect(decodeRecord({ name: 's', type: 'string', value: 'NaN' }).value).toBe('NaN');
  });
});
