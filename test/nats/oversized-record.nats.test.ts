import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, Runtime, connect } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

describe('a record stored under a larger max_payload', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A node and a client on `server`, stopped after the test. */
  async function nodeAndClient(server: NatsTestServer) {
    const node = await Runtime.start({ onError: () => {}, nats: { servers: server.url } });
    cleanups.push(() => node.stop());
    const client = await connect({ servers: server.url });
    cleanups.push(() => client.close());
    return { node, client };
  }

  it('is named by the refusal of a list, and the rest of the session stays readable', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'tether-oversized-'));
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const large = await startNatsServer({ storeDir });
    const before = await nodeAndClient(large);
    const session = await before.client.session('old');
    await session.defineVariable('a_small', 'integer', 1);
    await session.defineVariable('b_huge', 'string', 'h'.repeat(200_000));
    await before.client.close();
    await before.node.stop();
    await large.stop();

    // The same JetStream store, under a server that takes 64 KiB messages now.
    const small = await startNatsServer({ storeDir, maxPayload: 64 * 1024 });
    cleanups.push(() => small.stop());
    const { client } = await nodeAndClient(small);
    const reopened = await client.session('old', { create: false });
    const refusal = await reopened.listVariables().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PayloadTooLargeError);
    expect((refusal as Error).message).toMatch(
      /^variable 'b_huge' of session 'old' is \d+ bytes, over the NATS max_payload of 65536 bytes; it was stored while the server took larger messages, and no reply can carry it: write a smaller value or delete it$/,
    );
    expect((await reopened.listVariables('a_*')).map((record) => record.name)).toEqual(['a_small']);
    // Its history is refused the same way, naming the version.
    await expect(reopened.variableHistory('b_huge')).rejects.toThrow(
      /^version 1 of variable 'b_huge' of session 'old' is \d+ bytes, over the NATS max_payload of 65536 bytes; it was stored/,
    );
    // Written smaller, it is read again, and the whole session with it.
    await reopened.setVariable('b_huge', 'small now');
    expect((await reopened.listVariables()).map((record) => record.value)).toEqual([1, 'small now']);
  }, 20_000);
});
