import { describe, expect, it } from 'vitest';
import { createPayloadLimit } from '../../src/nats/payload-limit.js';

describe('createPayloadLimit', () => {
  it("follows the server's max_payload, and keeps the last announced while the connection has none", () => {
    // nats.js empties `info` at every attempt to dial again.
    const connection: { info: { max_payload: number } | undefined } = { info: { max_payload: 4_194_304 } };
    const limit = createPayloadLimit(connection as never);
    expect(limit()).toBe(4_194_304);
    connection.info = undefined;
    expect(limit()).toBe(4_194_304);
    // Back on a server that announces another limit.
    connection.info = { max_payload: 2_097_152 };
    expect(limit()).toBe(2_097_152);
  });

  // Found by mutation testing: a limit that began at the default, whatever the server had announced, passed every test.
  it('keeps the limit announced when it was created through an outage that begins before its first use', () => {
    const connection: { info: { max_payload: number } | undefined } = { info: { max_payload: 8_388_608 } };
    const limit = createPayloadLimit(connection as never);
    connection.info = undefined;
    expect(limit()).toBe(8_388_608);
  });

  it('is the default 1 MiB before any server announced one', () => {
    expect(createPayloadLimit({ info: undefined } as never)()).toBe(1024 * 1024);
  });
});
