/**
 * A NATS URL carrying a user and password (`nats://user:pass@host`, which the README offers for a NATS that needs
 * credentials) never has its password echoed: not by the library's connection errors (which reach logs and
 * `onError`), nor by the demo's banner, its "follow it live" hint or its failures, as the CLI never did (found in
 * review: all of them printed the URL as given).
 */
import { describe, expect, it } from 'vitest';
import { BridgeError, NatsConnectionError, Runtime, connect, createEchoModel } from '../src/index.js';
import { startScript } from './support/cli-process.js';
import { closedPort } from './support/closed-port.js';
import { startNatsServer } from './support/nats-server.js';
import { waitFor } from './support/wait-for.js';

const SECRET = 'pa55-s3cret-word';

async function failure(attempt: Promise<unknown>): Promise<BridgeError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BridgeError);
  return error as BridgeError;
}

describe('credentials in a NATS URL', () => {
  it("connect() to an unreachable server fails with nats_connection without the URL's password", async () => {
    const url = `nats://demo:${SECRET}@127.0.0.1:${await closedPort()}`;
    const error = await failure(connect({ servers: url }));
    expect(error.code).toBe('nats_connection');
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.details)).not.toContain(SECRET);
  });

  it("Runtime.start({ nats }) that cannot connect fails without the URL's password", async () => {
    const url = `nats://demo:${SECRET}@127.0.0.1:${await closedPort()}`;
    const error = await failure(Runtime.start({ llm: createEchoModel(), nats: { servers: url } }));
    expect(error.code).toBe('nats_connection');
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.details)).not.toContain(SECRET);
  });

  // It stops its own server: a suite pointed at a shared NATS_URL cannot.
  it.skipIf(process.env.NATS_URL !== undefined)(
    "reports a node's connection lost for good without the URL's password",
    async () => {
      const server = await startNatsServer();
      const url = server.url.replace('nats://', `nats://demo:${SECRET}@`);
      const reports: NatsConnectionError[] = [];
      const id = `${process.pid}_${Date.now()}`;
      const node = await Runtime.start({
        llm: createEchoModel(),
        onError: (error) => {
          if (error instanceof NatsConnectionError) reports.push(error);
        },
        nats: {
          servers: url,
          prefix: `cred_${id}`,
          variablesBucket: `cred_vars_${id}`,
          sessionsBucket: `cred_sessions_${id}`,
          modulesBucket: `cred_modules_${id}`,
          reconnect: { maxAttempts: 1, waitMs: 100 },
        },
      });
      try {
        await server.stop();
        await waitFor(() => reports.some((report) => report.status === 'closed'), { message: 'the connection lost' });
        for (const report of reports) {
          expect(report.message).not.toContain(SECRET);
          expect(JSON.stringify(report.details)).not.toContain(SECRET);
        }
      } finally {
        await node.stop();
        await server.stop();
      }
    },
  );

  it('npm run demo with NATS_URL=nats://user:pass@host never prints the password', async () => {
    const url = `nats://demo:${SECRET}@127.0.0.1:${await closedPort()}`;
    const run = await startScript('examples/demo.ts', [], { NATS_URL: url }).exited;
    // Every scenario fails (nothing listens), and the demo says so with exit 1 ...
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failed: nats_connection');
    // ... but neither its banner, its "follow it live" command, nor the failures show the password.
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  }, 60_000);
});
