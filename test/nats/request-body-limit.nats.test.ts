/**
 * A node on a server whose `max_payload` is above 1 MiB still takes request bodies of 1 MiB at most, as
 * docs/protocol.md ("Sizes") promises a client in any language: a body between the two is refused with
 * `validation_failed` (`details.constraint: "maxPayload"`) before it does anything.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const MIB = 1024 * 1024;
const fx = useNatsFixture({ maxPayload: 2 * MIB });
const nc = usePlainConnection(fx);

/** A body of exactly `bytes` bytes: `fields` with a string `field` that fills the rest. */
function bodyOfSize(bytes: number, fields: Record<string, unknown>, field: string): string {
  const empty = JSON.stringify({ ...fields, [field]: '' });
  return JSON.stringify({ ...fields, [field]: 'x'.repeat(bytes - empty.length) });
}

describe('a request body on a server that takes more than 1 MiB', () => {
  it('is refused past 1 MiB with validation_failed, changing nothing, and taken at 1 MiB', async () => {
    expect(nc().info!.max_payload).toBe(2 * MIB);
    await fx().node(fx().buckets());
    await rawReply(nc(), 'tether.v1.session.s1.open', '{}');

    const define = bodyOfSize(MIB + 1, { name: 'over', type: 'string' }, 'value');
    const over = await rawReply(nc(), 'tether.v1.session.s1.var.define', define);
    expect(over.errorCode).toBe('400');
    expect(over.body.error).toEqual({
      code: 'validation_failed',
      message: `payload of ${MIB + 1} bytes exceeds the limit of ${MIB} bytes`,
      details: { constraint: 'maxPayload', size: MIB + 1, limit: MIB },
    });
    expect((await rawReply(nc(), 'tether.v1.session.s1.var.has', '{"name":"over"}')).body.result).toBe(false);

    // At 1 MiB the body is taken: a get's `default` comes back as sent, a reply this server carries.
    const get = bodyOfSize(MIB, { name: 'absent' }, 'default');
    const at = await rawReply(nc(), 'tether.v1.session.s1.var.get', get);
    expect(at.errorCode).toBe('');
    expect(at.body.result).toEqual({ value: JSON.parse(get).default, type: null, version: 0 });
  });
});
