/**
 * TLS with a private CA and client certificates: a server whose certificate the test CA signed and that verifies its
 * clients' (test/support/tls-server.ts). A node, a client and an event subscriber given the files work there; one
 * without them is refused by TLS, as the server means; the CLI takes them from NATS_CA, NATS_CERT and NATS_KEY.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsConnectionError, Runtime, connect, createEchoModel, subscribeEvents } from '../../src/index.js';
import { runCliProcess, startCli } from '../support/cli-process.js';
import { startNatsServer } from '../support/nats-server.js';
import { CLIENT_TLS, TLS_FILES, startTlsServer } from '../support/tls-server.js';
import { waitFor } from '../support/wait-for.js';

const id = `${process.pid}_${Date.now()}`;

/** The node options of a test's own deployment on `servers`, under `name`. */
function deployment(servers: string, name: string) {
  return {
    servers,
    prefix: `tls_${name}_${id}`,
    variablesBucket: `tls_vars_${name}_${id}`,
    sessionsBucket: `tls_sessions_${name}_${id}`,
    modulesBucket: `tls_modules_${name}_${id}`,
  };
}

describe('TLS files: a private CA and client certificates', () => {
  it('a node, a client and an event subscriber with the files work on a server that verifies clients', async () => {
    const server = await startTlsServer();
    onTestFinished(() => server.stop());
    const nats = deployment(server.url, 'ok');
    const node = await Runtime.start({ llm: createEchoModel(), onError: () => {}, nats: { ...nats, tls: CLIENT_TLS } });
    onTestFinished(() => node.stop());
    const heard: unknown[] = [];
    const events = await subscribeEvents({ servers: server.url, prefix: nats.prefix, tls: CLIENT_TLS }, (event) =>
      heard.push(event.data),
    );
    onTestFinished(() => events.stop());
    const client = await connect({ servers: server.url, prefix: nats.prefix, tls: CLIENT_TLS });
    onTestFinished(() => client.close());

    const session = await client.session('s');
    await session.defineVariable('t', 'float', 0.5);
    await session.setVariable('t', 0.9);
    expect(await session.getVariable('t')).toBe(0.9);
    await waitFor(() => heard.some((data) => (data as { newValue?: unknown }).newValue === 0.9), {
      message: 'the change was heard over TLS',
    });
  });

  it('refuses a client without the files: the server certificate is not trusted, or no client certificate shown', async () => {
    const server = await startTlsServer();
    onTestFinished(() => server.stop());
    // Without the CA, the system's CAs do not know the server's.
    await expect(connect({ servers: server.url, connectTimeoutMs: 3000 })).rejects.toMatchObject({
      code: 'nats_connection',
      status: 'unreachable',
      message: expect.stringMatching(/certificate/),
    });
    // The CA alone: the server wants a certificate of the client, and closes the connection.
    const noClientCertificate = await connect({
      servers: server.url,
      connectTimeoutMs: 3000,
      tls: { caFile: TLS_FILES.ca },
    }).catch((error: unknown) => error);
    expect(noClientCertificate).toBeInstanceOf(NatsConnectionError);
    expect(noClientCertificate).toMatchObject({ status: 'unreachable' });
  });

  it('requires TLS once files are given: a server without it is refused, saying what required it', async () => {
    const plain = await startNatsServer();
    onTestFinished(() => plain.stop());
    for (const open of [
      () => connect({ servers: plain.url, tls: { caFile: TLS_FILES.ca } }),
      () => Runtime.start({ onError: () => {}, nats: { ...deployment(plain.url, 'plain'), tls: CLIENT_TLS } }),
    ])
      await expect(open()).rejects.toMatchObject({
        code: 'nats_connection',
        message: expect.stringContaining('the server offers no TLS, which the TLS files given require'),
        details: { tls: 'not_offered', requiredBy: 'files' },
      });
  });

  it('tether serve and var commands take the files from NATS_CA, NATS_CERT and NATS_KEY', async () => {
    const server = await startTlsServer();
    onTestFinished(() => server.stop());
    const prefix = `tls_cli_${id}`;
    const env = {
      NATS_URL: server.url,
      NATS_CA: TLS_FILES.ca,
      NATS_CERT: TLS_FILES.clientCert,
      NATS_KEY: TLS_FILES.clientKey,
    };
    const serve = startCli(['serve', '--prefix', prefix, '--buckets', `tv_${id},ts_${id},tm_${id}`], env);
    await serve.until('stdout', /node serving on/);
    const s = ['-s', 'c', '--prefix', prefix];
    expect(await runCliProcess(['var', 'define', 'n', 'integer', '3', ...s], env)).toMatchObject({ code: 0 });
    expect(await runCliProcess(['var', 'get', 'n', ...s], env)).toMatchObject({ code: 0, stdout: '3\n' });
    // Without the client certificate the server lets nobody in: NATS cannot be reached (exit 3).
    const refused = await runCliProcess(['var', 'get', 'n', ...s], { NATS_URL: server.url, NATS_CA: TLS_FILES.ca });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^tether: nats_unreachable: cannot reach NATS at tls:\/\/127\.0\.0\.1:\d+/);
    expect((await serve.stop('SIGTERM')).code).toBe(0);
  }, 60_000);

  it('tether and tether serve say a server offers no TLS, which the files require, naming the variables (exit 3)', async () => {
    const plain = await startNatsServer();
    onTestFinished(() => plain.stop());
    const [run, serve] = await Promise.all([
      runCliProcess(['var', 'get', 'x', '-s', 'a', '--nats', plain.url], { NATS_CA: TLS_FILES.ca }),
      runCliProcess(['serve', '--nats', plain.url, '--prefix', `notls_${id}`], { NATS_CA: TLS_FILES.ca }),
    ]);
    const requirer = 'which the TLS files given (NATS_CA, NATS_CERT, NATS_KEY) require\n';
    expect([run.code, run.stderr]).toEqual([
      3,
      `tether: nats_unreachable: NATS at ${plain.url} offers no TLS, ${requirer}`,
    ]);
    // `serve` said it in the node's terms ("the TLS files given require"), naming no variable.
    expect([serve.code, serve.stderr]).toEqual([
      3,
      `tether: nats_unreachable: cannot start a node on NATS at ${plain.url}: the server offers no TLS, ${requirer}`,
    ]);
  });
});
