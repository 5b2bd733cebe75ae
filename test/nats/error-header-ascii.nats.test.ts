/**
 * The `Nats-Service-Error` header of an error reply, as a client in another language reads it. Some read a header
 * value only as ASCII: nats.py before 2.15 parsed headers as e-mail, got an object for a value with any other byte,
 * and dropped every header of the message, so a client that tells an error by `Nats-Service-Error-Code` (as
 * docs/protocol.md's Python example does) took the error for a result. The description therefore travels in
 * printable ASCII, every other character as a `\uXXXX` escape; the body's message stays exact.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('error header', () => {
  it('is printable ASCII when the message names what the client sent in other characters', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    await rawReply(nc(), 'tether.v1.session.hdr.open', '{}');
    const spec = { type: 'Predict', signature: 'question:string -> answer:string' };
    await rawReply(nc(), 'tether.v1.session.hdr.module.qa.create', JSON.stringify({ spec }));

    const accented = await rawReply(nc(), 'tether.v1.session.hdr.module.é.describe', '{}');
    expect(accented.body.error.message).toBe(
      "invalid module id 'é': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'",
    );
    expect(accented.errorCode).toBe('400');
    expect(accented.error).toBe(
      "validation_failed: invalid module id '\\u00e9': use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'",
    );

    const emoji = await rawReply(
      nc(),
      'tether.v1.session.hdr.module.qa.execute',
      JSON.stringify({ inputs: { question: 'hi', 'mood😀': 1 } }),
    );
    expect(emoji.body.error.message).toContain("unknown input field 'mood😀'");
    expect(emoji.error).toContain("unknown input field 'mood\\ud83d\\ude00'");
    expect(emoji.error).toMatch(PRINTABLE_ASCII);
  });

  it("is printable ASCII when the node's own message has other characters (a cut id's ellipsis)", async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const reply = await rawReply(nc(), `tether.v1.session.hdr.module.${'m'.repeat(129)}.describe`, '{}');
    expect(reply.body.error.message).toContain('…');
    expect(reply.error).toContain('\\u2026');
    expect(reply.error).toMatch(PRINTABLE_ASCII);
  });
});
