import { describe, expect, it, onTestFinished } from 'vitest';
import { runCliProcess } from './support/cli-process.js';
import { startNatsServer } from './support/nats-server.js';

describe('cli', () => {
  it('connects to a NATS that needs a user and password, given in the URL or in NATS_USER and NATS_PASSWORD', async () => {
    const guarded = await startNatsServer({ config: 'authorization { users: [ { user: al, password: s3cr } ] }' });
    onTestFinished(() => guarded.stop());
    const { port } = new URL(guarded.url);
    const run = (nats: string, env: Record<string, string> = {}) =>
      runCliProcess(['var', 'list', '-s', 'x', '--nats', nats], env);
    const [inUrl, inEnv, without] = await Promise.all([
      run(`nats://al:s3cr@127.0.0.1:${port}`),
      run(`nats://127.0.0.1:${port}`, { NATS_USER: 'al', NATS_PASSWORD: 's3cr' }),
      run(`nats://127.0.0.1:${port}`),
    ]);
    // Let in, the commands find no node there (noproc); without credentials the server refuses the connection.
    for (const allowed of [inUrl, inEnv]) expect(allowed.stderr).toMatch(/^tether: noproc: /);
    expect(without.stderr).toMatch(/^tether: nats_unreachable: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+ /);
    // The password is never printed.
    expect(inUrl.stderr + inEnv.stderr).not.toContain('s3cr');
  });

  // Found by a review: it said "cannot reach NATS at tls://… (SERVER_OPT_NA)", nats.js's code, of a server it reached.
  it('says a server offers no TLS when a tls:// URL reaches one without, exit 3', async () => {
    const plain = await startNatsServer();
    onTestFinished(() => plain.stop());
    const tlsUrl = plain.url.replace(/^nats:/, 'tls:');
    const run = await runCliProcess(['var', 'get', 'x', '-s', 'a', '--nats', tlsUrl]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`tether: nats_unreachable: NATS at ${tlsUrl} offers no TLS, which a tls:// URL requires\n`);
  });
});
