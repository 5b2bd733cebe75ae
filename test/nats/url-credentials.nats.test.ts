/**
 * Credentials in a server URL (`nats://user:pass@host`, `nats://token@host`), the one string a deployment hands its
 * services as `NATS_URL`: nats.js ignores them there, and an embedded `connect` or node given such a URL was refused
 * with a bare authorization error, where the CLI (and the nats CLI, and the Go and Python clients) connected. They are
 * read as the CLI reads them: each part given as an option wins over the URL's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, ValidationError, connect, createEchoModel } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let users: NatsTestServer;
let tokens: NatsTestServer;
beforeAll(async () => {
  [users, tokens] = await Promise.all([
    startNatsServer({ config: 'authorization { users: [ { user: alice, password: "s3cret@42" } ] }' }),
    startNatsServer({ config: 'authorization { token: "t0ken" }' }),
  ]);
});
afterAll(() => Promise.all([users?.stop(), tokens?.stop()]));

/** `server`'s URL carrying `userInfo` before its host. */
const carrying = (server: NatsTestServer, userInfo: string): string =>
  server.url.replace('nats://', `nats://${userInfo}@`);

describe('credentials in a server URL', () => {
  it('connects with the user and password a URL carries, its escapes decoded, and a node starts on it', async () => {
    const client = await connect({ servers: carrying(users, 'alice:s3cret%4042') });
    await client.close();
    const id = `${process.pid}_${Date.now()}`;
    const node = await Runtime.start({
      llm: createEchoModel(),
      onError: () => {},
      nats: {
        servers: [carrying(users, 'alice:s3cret%4042')],
        prefix: `urlcred_${id}`,
        variablesBucket: `urlcred_vars_${id}`,
        sessionsBucket: `urlcred_sessions_${id}`,
        modulesBucket: `urlcred_modules_${id}`,
      },
    });
    await node.stop();
  });

  it('connects with the token a lone name in the URL is, and takes a password option for a URL user', async () => {
    await (await connect({ servers: carrying(tokens, 't0ken') })).close();
    await (await connect({ servers: carrying(users, 'alice'), pass: 's3cret@42' })).close();
  });

  it("lets the options' credentials win over the URL's, part by part", async () => {
    const wrong = carrying(users, 'alice:wrong');
    await (await connect({ servers: wrong, pass: 's3cret@42' })).close();
    const refused = await connect({ servers: carrying(users, 'alice:s3cret%4042'), pass: 'wrong' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(NatsConnectionError);
    // Said without the URL's password.
    expect((refused as Error).message).not.toContain('s3cret');
  });

  it('refuses a password with no user, from the URL or the options, before connecting', async () => {
    for (const settings of [{ servers: carrying(users, ':s3cret') }, { servers: users.url, pass: 's3cret@42' }]) {
      const error = await connect(settings).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        message: "connect option 'pass' needs a user: option 'user', or user@ in a server URL",
        details: { field: 'pass', constraint: 'user' },
      });
    }
  });
});
