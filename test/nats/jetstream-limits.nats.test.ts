/**
 * JetStream limits being hit. An account whose JetStream storage is used up refuses a KV put; an account allowed
 * fewer streams than a node's three buckets refuses the third create. Was: both came out as `internal_error` with
 * nats.js's raw text ("resource limits exceeded for account", "maximum number of streams reached"), no bucket in
 * `details` and no `outcome` telling a caller whether the write landed; and a server with JetStream whose account has
 * none was said to run without JetStream ("start nats-server with -js"). Now: `store_limit_reached` naming the bucket,
 * the key, the operation and the limit, `outcome: 'not_applied'`, the value left as it was, on a node and through a
 * remote client alike; and the account without JetStream is named as such.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, InternalError, Runtime, StoreLimitError } from '../../src/index.js';
import { FULL_ACCOUNT } from '../support/full-account.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({
    config: [
      'accounts {',
      FULL_ACCOUNT,
      '  FEW: { jetstream: { max_streams: 2, max_file: 100M, max_mem: 0 }, users: [{ user: few, password: p }] }',
      '  NONE: { users: [{ user: none, password: p }] }',
      '}',
    ].join('\n'),
  });
});
afterAll(() => server?.stop());

const natsAs = (user: string) => ({ servers: server.url, user, pass: 'p', unavailableRetryMs: 1000 });

/** What `Runtime.start` as `user` fails with (`undefined` when it starts). */
const startFailure = (user: string): Promise<unknown> =>
  Runtime.start({ onError: () => {}, nats: natsAs(user) }).then(
    async (runtime) => {
      await runtime.stop();
      return undefined;
    },
    (e: unknown) => e,
  );

describe('JetStream limits being hit', () => {
  it('refuses a write over the account storage with a typed error naming the bucket, not applied, value kept', async () => {
    const runtime = await Runtime.start({ onError: () => {}, nats: natsAs('full') });
    try {
      const session = await runtime.session('s1');
      await session.defineVariable('blob', 'string', 'start');
      let last = 'start';
      let refused: unknown;
      for (let i = 0; i < 100 && refused === undefined; i += 1) {
        const value = String(i % 10).repeat(30_000);
        refused = await session.setVariable('blob', value).then(
          () => void (last = value),
          (error: unknown) => error,
        );
      }
      expect(refused).toBeInstanceOf(StoreLimitError);
      expect(refused).toMatchObject({
        code: 'store_limit_reached',
        details: { bucket: 'tether_vars', key: 's1.blob', operation: 'put', limit: 'storage', outcome: 'not_applied' },
      });
      expect((refused as Error).message).toContain("KV bucket 'tether_vars' refused put of 's1.blob'");
      expect(await session.getVariable('blob')).toBe(last);

      // A remote client's write hears the same, rebuilt from the node's reply. (Another key: nats-server 2.9.10 loses
      // track of the last revision of a key whose write it refused, and refuses the key's next compare-and-set.)
      const client = await connect({ servers: server.url, user: 'full', pass: 'p' });
      try {
        const remote = await client.session('s1');
        const error = await remote.defineVariable('more', 'string', 'x'.repeat(30_000)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreLimitError);
        expect(error).toMatchObject({
          code: 'store_limit_reached',
          details: { bucket: 'tether_vars', key: 's1.more', limit: 'storage', outcome: 'not_applied' },
        });
        expect(await remote.hasVariable('more')).toBe(false);
      } finally {
        await client.close();
      }
    } finally {
      await runtime.stop();
    }
  }, 30_000);

  it('refuses a start whose buckets the account may not create with a typed error naming the bucket', async () => {
    const error = await startFailure('few');
    expect(error).toBeInstanceOf(StoreLimitError);
    expect(error).toMatchObject({
      code: 'store_limit_reached',
      details: { bucket: 'tether_modules', operation: 'open', limit: 'streams', outcome: 'not_applied' },
    });
  }, 30_000);

  it("says a start on a server with JetStream failed for want of it in the user's account, not on the server", async () => {
    const error = await startFailure('none');
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toBe(
      "store open of 'tether_vars' failed: JetStream is not enabled for this NATS user's account " +
        "(give the account a jetstream block in the server's config)",
    );
  }, 30_000);
});
