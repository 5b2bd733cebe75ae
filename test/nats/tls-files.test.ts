/**
 * The TLS files are checked before connecting: a wrong path, a file of something else, a certificate without its key
 * or with another's is refused naming the file, where nats.js would have failed the connection as a server that
 * cannot be reached (or, for a key of another certificate, at the TLS handshake).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, ValidationError, connect, subscribeEvents } from '../../src/index.js';
import { runCli } from '../../src/cli/cli.js';
import { assertTlsFiles } from '../../src/nats/tls-files.js';
import { CLIENT_TLS, TLS_FILES } from '../support/tls-server.js';

// Nothing listens on port 1: a check that let anything connect would fail as unreachable, not as validation.
const NOWHERE = 'nats://127.0.0.1:1';
const NOT_PEM = new URL('../support/tls/make-certs.sh', import.meta.url).pathname;

/** What `check` throws. */
function refusalOf(check: () => void): unknown {
  try {
    check();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('TLS files', () => {
  it('takes a CA alone, a certificate with its key, or all three', () => {
    for (const tls of [
      { caFile: TLS_FILES.ca },
      { certFile: TLS_FILES.clientCert, keyFile: TLS_FILES.clientKey },
      CLIENT_TLS,
    ])
      expect(() => assertTlsFiles('connect', tls), JSON.stringify(tls)).not.toThrow();
  });

  it('refuses each file that cannot be used, naming it and its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-tls-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // nats.js takes no passphrase: an encrypted key could never be used.
    const encrypted = join(dir, 'encrypted-key.pem');
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
    });
    await writeFile(encrypted, privateKey);
    const missing = join(dir, 'missing.pem');
    const cases: [object, string, string][] = [
      [{ caFile: missing }, 'tls.caFile', `tls.caFile cannot read '${missing}' (ENOENT)`],
      [{ caFile: dir }, 'tls.caFile', `tls.caFile cannot read '${dir}' (EISDIR)`],
      [{ caFile: NOT_PEM }, 'tls.caFile', `tls.caFile '${NOT_PEM}' holds no PEM certificate`],
      [{ certFile: TLS_FILES.clientKey, keyFile: TLS_FILES.clientKey }, 'tls.certFile', 'holds no PEM certificate'],
      [{ certFile: TLS_FILES.clientCert, keyFile: TLS_FILES.ca }, 'tls.keyFile', 'holds no unencrypted private key'],
      [{ certFile: TLS_FILES.clientCert, keyFile: encrypted }, 'tls.keyFile', 'holds no unencrypted private key'],
      [
        { certFile: TLS_FILES.clientCert, keyFile: TLS_FILES.serverKey },
        'tls.keyFile',
        `tls.keyFile '${TLS_FILES.serverKey}' is not the key of tls.certFile '${TLS_FILES.clientCert}'`,
      ],
    ];
    for (const [tls, field, message] of cases) {
      const error = refusalOf(() => assertTlsFiles('connect', tls));
      expect(error, JSON.stringify(tls)).toBeInstanceOf(ValidationError);
      expect(error, JSON.stringify(tls)).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining(message),
        details: { field, path: expect.any(String) },
      });
    }
  });

  it('refuses a certificate without its key and the other way round, and what is no path', () => {
    expect(refusalOf(() => assertTlsFiles('connect', { certFile: TLS_FILES.clientCert }))).toMatchObject({
      message: 'tls.keyFile is needed with tls.certFile: a client certificate goes with its key',
      details: { field: 'tls.keyFile' },
    });
    expect(refusalOf(() => assertTlsFiles('connect', { keyFile: TLS_FILES.clientKey }))).toMatchObject({
      message: 'tls.certFile is needed with tls.keyFile: a client certificate goes with its key',
      details: { field: 'tls.certFile' },
    });
    for (const caFile of ['', 5, null])
      expect(refusalOf(() => assertTlsFiles('connect', { caFile }))).toMatchObject({
        message: expect.stringMatching(/^tls\.caFile must be the path of a file, got (""|5|null)$/),
        details: { field: 'tls.caFile' },
      });
    expect(refusalOf(() => assertTlsFiles('connect', { ca: 'PEM text' }))).toMatchObject({
      message: 'connect tls got unknown option ca; accepted: caFile, certFile, keyFile',
    });
    expect(refusalOf(() => assertTlsFiles('connect', 'ca.pem'))).toMatchObject({ code: 'validation_failed' });
  });

  it('is checked by connect, subscribeEvents and Runtime.start before connecting', async () => {
    const tls = { caFile: '/nonexistent/ca.pem' };
    for (const open of [
      () => connect({ servers: NOWHERE, tls }),
      () => subscribeEvents({ servers: NOWHERE, tls }, () => {}),
      () => Runtime.start({ nats: { servers: NOWHERE, tls } }),
    ])
      await expect(open()).rejects.toMatchObject({
        code: 'validation_failed',
        message: "tls.caFile cannot read '/nonexistent/ca.pem' (ENOENT)",
      });
  });

  it('the CLI refuses a file its variable names that cannot be used as a usage error (exit 2), naming the variable', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [['var', 'get', 'x', '-s', 'a'], { NATS_CA: '/nonexistent/ca.pem' }, "NATS_CA cannot read '/nonexistent/ca.pem'"],
      [['events'], { NATS_KEY: TLS_FILES.clientKey }, 'NATS_CERT is needed with NATS_KEY'],
      [
        ['serve'],
        { NATS_CERT: TLS_FILES.clientCert, NATS_KEY: TLS_FILES.serverKey },
        `NATS_KEY '${TLS_FILES.serverKey}' is not the key of NATS_CERT`,
      ],
    ];
    for (const [args, env, line] of cases) {
      let stderr = '';
      const code = await runCli([...args, '--nats', NOWHERE], {
        out: () => {},
        err: (text) => void (stderr += `${text}\n`),
        env,
      });
      expect([code, stderr.split('\n').length], args.join(' ')).toEqual([2, 2]);
      expect(stderr, args.join(' ')).toContain(`tether: usage: ${line}`);
    }
    // An empty variable is unset, as NATS_URL's is: no file is checked, and the command goes on to connect (found by
    // mutation: reading '' as a path passed every test).
    let stderr = '';
    const code = await runCli(['var', 'get', 'x', '-s', 'a', '--nats', NOWHERE], {
      out: () => {},
      err: (text) => void (stderr += `${text}\n`),
      env: { NATS_CA: '', NATS_CERT: '', NATS_KEY: '' },
    });
    expect([code, stderr]).toEqual([
      3,
      `tether: nats_unreachable: cannot reach NATS at ${NOWHERE} (CONNECTION_REFUSED)\n`,
    ]);
  });
});

// Found by a security review: a key given as its PEM text rather than its path (as a secret store hands it to an
// environment variable) was quoted whole, private key and all, in "NATS_KEY cannot read '-----BEGIN PRIVATE KEY-----
// ...' (ENOENT)" on stderr and in `details.path`; a key read into a Buffer was shown as its bytes.
describe('a TLS file given as its contents', () => {
  const pem = readFileSync(TLS_FILES.clientKey, 'utf8');
  /** The lines of the key that are secret: all but its BEGIN and END lines. */
  const secretLines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));

  it('is refused without a line of it, said to be PEM text, not a path', () => {
    for (const keyFile of [pem, Buffer.from(pem), pem.replace(/\n/g, '\r\n')]) {
      const error = refusalOf(() => assertTlsFiles('connect', { certFile: TLS_FILES.clientCert, keyFile }));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ details: { field: 'tls.keyFile' } });
      const shown = `${inspect(error, { depth: 8 })} ${JSON.stringify(error)}`;
      for (const line of secretLines) expect(shown).not.toContain(line.trim());
    }
    expect(refusalOf(() => assertTlsFiles('connect', { certFile: TLS_FILES.clientCert, keyFile: pem }))).toMatchObject({
      message:
        'tls.keyFile must be the path of a file, got PEM text (a private key): give the path of a file holding it',
    });
  });

  it('the CLI refuses NATS_KEY holding the key itself without printing it (exit 2)', async () => {
    let stderr = '';
    const code = await runCli(['var', 'get', 'x', '-s', 'a', '--nats', NOWHERE], {
      out: () => {},
      err: (text) => void (stderr += `${text}\n`),
      env: { NATS_CERT: TLS_FILES.clientCert, NATS_KEY: pem },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('tether: usage: NATS_KEY must be the path of a file, got PEM text (a private key)');
    for (const line of secretLines) expect(stderr).not.toContain(line.trim());
  });
});
