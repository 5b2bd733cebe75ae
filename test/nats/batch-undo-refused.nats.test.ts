/**
 * A batch of several writes (here an import) that the account's JetStream storage, full, cut short, and whose undo
 * the full storage refused too. Was: refused with `internal_error` "commit <id> lost a race on '<key>' and could not
 * undo …", though no other writer was there: the storage refusal was left in `cause` alone, which a remote client
 * never sees. Now the message and `details.reason` say what refused the write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, InternalError, Runtime } from '../../src/index.js';
import { FULL_ACCOUNT } from '../support/full-account.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({
    config: ['accounts {', FULL_ACCOUNT, '}'].join('\n'),
  });
});
afterAll(() => server?.stop());

const nats = { user: 'full', pass: 'p', unavailableRetryMs: 1000 };

describe('a batch whose undo the full storage refused', () => {
  it('says the storage refused it, not that it lost a race, as a client hears it', async () => {
    const runtime = await Runtime.start({ onError: () => {}, nats: { ...nats, servers: server.url } });
    const client = await connect({ servers: server.url, user: 'full', pass: 'p' });
    try {
      const session = await client.session('s1');
      await session.defineVariable('pre', 'string', 'p');
      // 20 values of 30 KB: the storage (400 KB) is full after about 13 of them, with too little room left for the
      // markers that would undo the new variables written before the refusal.
      const records = Array.from({ length: 20 }, (_, i) => ({
        name: `v${i}`,
        type: 'string',
        value: String(i % 10).repeat(30_000),
      }));
      const error = await session.importVariables(records).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalError);
      expect(error).toMatchObject({ code: 'internal_error', details: { reason: 'store_limit_reached' } });
      expect((error as Error).message).not.toContain('lost a race');
      expect((error as Error).message).toContain('storage is full');
      expect((error as InternalError).details.unrestored).toEqual(
        expect.arrayContaining([expect.stringMatching(/^s1\.v\d+$/)]),
      );
    } finally {
      await client.close();
      await runtime.stop();
    }
  }, 30_000);
});
